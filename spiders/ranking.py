"""How likely a link leads to service information: anchor text, URL words, where it sits.

Scores are additive and general (no site is named): words of the service standard, maklumat,
complaints, survey, contact and hours raise a link; news, galleries, tags, dates, pagination,
calendars and logins lower it. A score <= 0 is never fetched.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

STRONG = re.compile(
    r"(standar|standart|pelayanan|layanan|service|persyaratan|syarat|maklumat|charter|pengaduan|aduan|complain|"
    r"survei|survey|skm|ikm|kepuasan|satisfaction|prosedur|alur|sop|tarif|biaya|retribusi|jam|hours|"
    r"jadwal|disabilitas|difabel|prioritas|inklusi|ramah|kontak|contact|hubungi|alamat|ppid|informasi|"
    r"public|unduh|download|dokumen|lapor|saran|perizinan|izin|ktp|akta|kk)"
)
WEAK = re.compile(r"(profil|profile|tentang|about|visi|struktur|tupoksi|organisasi|organization|sarana|fasilitas|faq)")
LOW = re.compile(
    r"(berita|news|artikel|article|blog|post|galeri|gallery|foto|photo|video|tag|category|kategori|arsip|"
    r"archive|author|feed|comment|agenda|kalender|calendar|event|kegiatan|pengumuman|announcement|"
    r"liputan|opini|login|logout|signin|register|wp-admin|wp-login|cart|search|cari|print|cetak|share)"
)
DATE_PATH = re.compile(r"/(?:19|20)\d\d(?:/\d{1,2}){0,2}/|[?&](?:month|year|date|tanggal|bulan|tahun|day|m|y)=", re.I)
PAGINATION = re.compile(r"/page/\d+|[?&](?:page|paged|p|hal|halaman|start|offset)=\d+", re.I)


def link_score(url: str, anchor: str, region: str, depth: int) -> float:
    path = unquote(urlparse(url).path + " " + urlparse(url).query).lower().replace("-", " ").replace("_", " ")
    text = anchor.lower()
    score = 10.0
    score += 25 * len(set(STRONG.findall(text))) + 15 * len(set(STRONG.findall(path)))
    score += 5 * bool(WEAK.search(text) or WEAK.search(path))
    if LOW.search(path) or LOW.search(text):
        score -= 20
    if DATE_PATH.search(url):
        score -= 25
    if PAGINATION.search(url):
        score -= 15
    if path.endswith(".pdf ") or ".pdf" in path:
        score += 20  # standards, maklumat and SKM reports are often PDFs
    if region in ("nav", "header"):
        score += 8  # menus lead to the site's sections
    elif region == "footer":
        score += 4
    score -= 3 * depth
    return max(score, 1.0) if not DATE_PATH.search(url) else max(score, 0.5)


IMAGE_WORDS = re.compile(
    r"(standar|standart|pelayanan|layanan|service|persyaratan|syarat|maklumat|charter|pengaduan|aduan|complain|"
    r"survei|survey|skm|ikm|kepuasan|prosedur|alur|flow|sop|tarif|biaya|retribusi|jadwal|jam|disabilitas|"
    r"prioritas|infografi|informasi|\bsp\b|janji)"
)
IMAGE_NOISE = re.compile(r"(logo|icon|ikon|banner|slider|avatar|favicon|bg|background|foto-kegiatan|kegiatan|berita)")


def image_score(src: str, alt: str, page_url: str, page_title: str) -> float:
    """How likely an image carries service information as text; <= 0: not worth reading."""
    name = unquote(urlparse(src).path.rsplit("/", 1)[-1]).lower().replace("-", " ").replace("_", " ")
    own = f"{name} {alt.lower()}"
    context = unquote(urlparse(page_url).path).lower().replace("-", " ") + " " + page_title.lower()
    if IMAGE_NOISE.search(own):
        return 0.0
    score = 30.0 * len(set(IMAGE_WORDS.findall(own))) + 15.0 * len(set(IMAGE_WORDS.findall(context)))
    return score
