#!/usr/bin/env python3
"""A farm of Indonesian-looking public-service websites for Patuh's benchmark, served by nginx.

Every site lives on its own loopback address 127.0.X.Y (X = 1 + i // 250, Y = 1 + i % 250, so
127.0.0.1 is never used; Linux routes all of 127.0.0.0/8 to `lo`, nothing to set up) on one
fixed port (8081 by default), so that Scrapy gives each site its own download slot.

A site has M pages (default 30): a home page with a WordPress-like header, nav menu (Profil,
Layanan > Standar Pelayanan, Maklumat, Pengaduan, SKM, Berita, Galeri, Kontak), sidebar and
footer boilerplate; profile pages; service pages (some with a standar pelayanan table:
Persyaratan, Prosedur, Waktu, Biaya, Produk, Pengaduan); news posts with pagination and monthly
archives; and a few PDFs (hand-written text PDFs, standard library only). HTML pages are
15-40 KB. Sites vary which indicators they publish (a real page, an "under construction"
placeholder behind the menu item, or nothing). Everything is deterministic from the seed: a
site depends only on (seed, site number, pages per site), so a 1,000-site farm contains the
100-site farm, and files carry fixed modification times (stable ETag / Last-Modified).

    python benchmarks/farm.py build --sites 100 --pages 30      # writes /tmp/patuh-bench-farm
    python benchmarks/farm.py start                              # nginx in the background
    python benchmarks/farm.py status
    python benchmarks/farm.py stop

The folder holds `sites/<address>/...` (the document roots), `units.csv` (name,kind,region,url,
province for `patuh units import`), `manifest.json`, and `nginx/` (config, pid file, logs).
nginx serves every site from one `server` block with one `listen 127.0.X.Y:PORT` per site and
`root <farm>/sites/$server_addr`; ETag and Last-Modified are on (nginx's default for static
files), and pre-compressed `.gz` copies are served through `gzip_static` unless `--no-gzip`.
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import csv
import gzip
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html import escape
from pathlib import Path

FARM_VERSION = 1  # bump when the generated content changes
DEFAULT_PORT = 8081
DEFAULT_DIR = Path(tempfile.gettempdir()) / "patuh-bench-farm"
SITES_PER_X = 250
MAX_SITES = SITES_PER_X * 254
MIN_PAGES = 20  # 8 fixed pages + up to 4 indicator pages + up to 5 PDFs + services and news


def site_address(i: int) -> str:
    """The loopback address of site number `i` (0-based): 127.0.1.1, 127.0.1.2, ... 127.0.2.1, ..."""
    if not 0 <= i < MAX_SITES:
        raise ValueError(f"site number {i} out of range 0..{MAX_SITES - 1}")
    return f"127.0.{1 + i // SITES_PER_X}.{1 + i % SITES_PER_X}"


def site_url(i: int, port: int = DEFAULT_PORT) -> str:
    return f"http://{site_address(i)}:{port}/"


# --------------------------------------------------------------------------------------------
# word lists

REGIONS = [
    ("Kabupaten Bogor", "Jawa Barat"), ("Kota Bandung", "Jawa Barat"), ("Kabupaten Garut", "Jawa Barat"),
    ("Kabupaten Sleman", "DI Yogyakarta"), ("Kabupaten Banyumas", "Jawa Tengah"), ("Kota Semarang", "Jawa Tengah"),
    ("Kabupaten Klaten", "Jawa Tengah"), ("Kota Surabaya", "Jawa Timur"), ("Kabupaten Malang", "Jawa Timur"),
    ("Kabupaten Jember", "Jawa Timur"), ("Kabupaten Gowa", "Sulawesi Selatan"), ("Kota Makassar", "Sulawesi Selatan"),
    ("Kabupaten Deli Serdang", "Sumatera Utara"), ("Kota Medan", "Sumatera Utara"), ("Kabupaten Badung", "Bali"),
    ("Kota Denpasar", "Bali"), ("Kabupaten Lombok Timur", "Nusa Tenggara Barat"),
    ("Kota Mataram", "Nusa Tenggara Barat"),
    ("Kota Kupang", "Nusa Tenggara Timur"), ("Kabupaten Alor", "Nusa Tenggara Timur"),
    ("Kabupaten Kutai Kartanegara", "Kalimantan Timur"), ("Kota Balikpapan", "Kalimantan Timur"),
    ("Kota Samarinda", "Kalimantan Timur"), ("Kota Pontianak", "Kalimantan Barat"),
    ("Kabupaten Banjar", "Kalimantan Selatan"), ("Kota Palangka Raya", "Kalimantan Tengah"),
    ("Kota Padang", "Sumatera Barat"), ("Kabupaten Agam", "Sumatera Barat"), ("Kota Palembang", "Sumatera Selatan"),
    ("Kabupaten Lampung Selatan", "Lampung"), ("Kota Jayapura", "Papua"), ("Kota Ambon", "Maluku"),
    ("Kota Manado", "Sulawesi Utara"), ("Kabupaten Minahasa", "Sulawesi Utara"), ("Kota Kendari", "Sulawesi Tenggara"),
    ("Kabupaten Aceh Besar", "Aceh"), ("Kota Banda Aceh", "Aceh"), ("Kota Pekanbaru", "Riau"),
    ("Kabupaten Kampar", "Riau"), ("Kota Jambi", "Jambi"), ("Kota Bengkulu", "Bengkulu"), ("Kota Serang", "Banten"),
    ("Kabupaten Tangerang", "Banten"), ("Kota Palu", "Sulawesi Tengah"), ("Kota Gorontalo", "Gorontalo"),
    ("Kota Tanjungpinang", "Kepulauan Riau"), ("Kota Pangkalpinang", "Kepulauan Bangka Belitung"),
    ("Kota Ternate", "Maluku Utara"), ("Kabupaten Manokwari", "Papua Barat"), ("Kabupaten Mamuju", "Sulawesi Barat"),
]
PLACES = [
    "Sukamaju", "Cibinong", "Karanganyar", "Sidomulyo", "Tanjung Sari", "Mekarsari", "Sukajadi", "Kebon Jeruk",
    "Bojonggede", "Kedungwaru", "Wonosari", "Gunung Sari", "Batu Ampar", "Sungai Raya", "Kota Baru", "Air Tawar",
    "Padang Bulan", "Teluk Betung", "Lubuk Buaya", "Bandar Jaya", "Rawa Bening", "Sumber Rejo", "Tegal Rejo",
    "Sambirejo", "Margahayu", "Ngaliyan", "Panakkukang", "Tamalanrea", "Moru", "Kalabahi", "Ciparay", "Pagaden",
]
KIND_WEIGHTS = [("puskesmas", 45), ("dinas_kesehatan", 9), ("dinas_pendidikan", 9), ("dinas_sosial", 9),
                ("dpmptsp", 9), ("dukcapil", 9), ("opd", 10)]
KIND_NAMES = {
    "dinas_kesehatan": "Dinas Kesehatan",
    "dinas_pendidikan": "Dinas Pendidikan dan Kebudayaan",
    "dinas_sosial": "Dinas Sosial",
    "dpmptsp": "Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    "dukcapil": "Dinas Kependudukan dan Pencatatan Sipil",
}
OPD_NAMES = ["Badan Kesatuan Bangsa dan Politik", "Dinas Perhubungan", "Dinas Ketenagakerjaan",
             "Badan Pendapatan Daerah", "Dinas Lingkungan Hidup", "Kecamatan Kota"]
SERVICES = {
    "puskesmas": [
        ("Pelayanan Pemeriksaan Umum", "Kartu identitas (KTP/KK)", "Surat keterangan hasil pemeriksaan", "15 menit"),
        ("Kesehatan Ibu dan Anak (KIA)", "Buku KIA dan kartu identitas", "Pemeriksaan kehamilan tercatat", "20 menit"),
        ("Imunisasi", "Buku KIA atau kartu imunisasi", "Catatan imunisasi", "10 menit"),
        ("Pelayanan Gigi dan Mulut", "Kartu identitas dan kartu BPJS", "Tindakan dan resep", "30 menit"),
        ("Laboratorium", "Surat pengantar dokter", "Hasil pemeriksaan laboratorium", "60 menit"),
        ("Surat Keterangan Sehat", "KTP dan pas foto 3x4", "Surat keterangan sehat", "20 menit"),
        ("Unit Gawat Darurat 24 Jam", "Tanpa syarat awal; identitas menyusul", "Pertolongan gawat darurat", "segera"),
    ],
    "dukcapil": [
        ("Penerbitan KTP-el", "Fotokopi Kartu Keluarga", "KTP elektronik", "1 hari kerja"),
        ("Penerbitan Kartu Keluarga", "Formulir F-1.01 dan dokumen pendukung", "Kartu Keluarga", "1 hari kerja"),
        ("Akta Kelahiran", "Surat keterangan lahir dari bidan atau rumah sakit", "Kutipan akta kelahiran",
         "1 hari kerja"),
        ("Akta Kematian", "Surat keterangan kematian dari desa", "Kutipan akta kematian", "1 hari kerja"),
        ("Surat Pindah Datang", "Surat keterangan pindah dari daerah asal", "Kartu Keluarga baru", "1 hari kerja"),
        ("Kartu Identitas Anak", "Kutipan akta kelahiran dan pas foto", "Kartu Identitas Anak", "1 hari kerja"),
    ],
    "dpmptsp": [
        ("Nomor Induk Berusaha (NIB)", "KTP dan NPWP pemohon", "NIB melalui OSS", "1 hari kerja"),
        ("Persetujuan Bangunan Gedung", "Dokumen teknis dan bukti kepemilikan tanah", "PBG", "28 hari kerja"),
        ("Izin Praktik Tenaga Kesehatan", "STR dan rekomendasi organisasi profesi", "Surat Izin Praktik",
         "5 hari kerja"),
        ("Izin Reklame", "Desain reklame dan lokasi", "Izin penyelenggaraan reklame", "3 hari kerja"),
        ("Izin Usaha Toko Swalayan", "NIB dan kajian sosial ekonomi", "Izin usaha", "7 hari kerja"),
    ],
    "dinas_kesehatan": [
        ("Rekomendasi Izin Apotek", "Surat permohonan dan denah lokasi", "Surat rekomendasi", "5 hari kerja"),
        ("Sertifikat Laik Higiene Sanitasi", "Hasil uji laboratorium", "Sertifikat laik higiene", "10 hari kerja"),
        ("Sertifikat Produksi Pangan Industri Rumah Tangga", "Sertifikat penyuluhan keamanan pangan",
         "SPP-IRT", "14 hari kerja"),
        ("Izin Operasional Klinik", "Dokumen profil klinik", "Izin operasional", "14 hari kerja"),
    ],
    "dinas_pendidikan": [
        ("Legalisir Ijazah", "Ijazah asli dan fotokopi", "Fotokopi ijazah terlegalisir", "1 hari kerja"),
        ("Mutasi Siswa", "Surat keterangan pindah dari sekolah asal", "Surat rekomendasi mutasi", "2 hari kerja"),
        ("Surat Keterangan Pengganti Ijazah", "Surat keterangan hilang dari kepolisian",
         "Surat keterangan pengganti ijazah", "7 hari kerja"),
        ("Izin Operasional Satuan Pendidikan", "Proposal pendirian", "Izin operasional", "30 hari kerja"),
    ],
    "dinas_sosial": [
        ("Rekomendasi KIS PBI", "KTP, KK dan surat keterangan tidak mampu", "Surat rekomendasi", "1 hari kerja"),
        ("Pendaftaran DTKS", "KTP dan KK", "Terdaftar di DTKS", "30 hari kerja"),
        ("Rehabilitasi Sosial", "Surat pengantar desa", "Layanan rehabilitasi", "7 hari kerja"),
        ("Surat Keterangan Terdaftar Bantuan Sosial", "KTP dan KK", "Surat keterangan", "1 hari kerja"),
    ],
    "opd": [
        ("Permohonan Informasi Publik", "Identitas pemohon", "Informasi publik yang diminta", "10 hari kerja"),
        ("Layanan Rekomendasi", "Surat permohonan", "Surat rekomendasi", "3 hari kerja"),
        ("Layanan Konsultasi", "Tanpa syarat", "Konsultasi", "30 menit"),
    ],
}
SUBJECTS = ["Pemerintah daerah", "Kepala dinas", "Tim pelayanan", "Petugas kesehatan", "Masyarakat setempat",
            "Bupati", "Wali kota", "Camat", "Para kader posyandu", "Petugas loket", "Sekretaris dinas",
            "Bidang pelayanan", "Unit pelaksana teknis", "Tim penggerak PKK", "Kepala bidang", "Para peserta"]
VERBS = ["melaksanakan", "menyelenggarakan", "meningkatkan", "mengadakan", "menyampaikan", "memberikan",
         "mendukung", "memperkuat", "mengoptimalkan", "menyosialisasikan", "meninjau", "mengevaluasi", "membahas",
         "menghadiri", "meresmikan", "mengikuti"]
OBJECTS = ["kegiatan sosialisasi", "pelayanan kesehatan dasar", "program imunisasi", "rapat koordinasi",
           "pemeriksaan kesehatan gratis", "pendataan penduduk", "pembinaan kader", "percepatan penurunan stunting",
           "layanan administrasi kependudukan", "penyaluran bantuan", "inovasi pelayanan publik",
           "monitoring dan evaluasi", "peningkatan kapasitas aparatur", "penyuluhan perilaku hidup bersih dan sehat",
           "pelayanan perizinan berusaha", "gerakan masyarakat hidup sehat"]
COMPLEMENTS = ["di wilayah kerja kecamatan", "bersama lintas sektor", "pada Selasa pagi", "di aula kantor",
               "sesuai arahan pimpinan", "demi kesejahteraan masyarakat", "secara berkelanjutan",
               "dengan melibatkan tokoh masyarakat", "selama tiga hari berturut-turut",
               "dalam rangka Hari Kesehatan Nasional", "untuk mewujudkan pelayanan prima", "di balai desa",
               "dengan antusias", "pada tahun anggaran berjalan", "menjelang akhir triwulan"]
TAILS = ["Kegiatan ini diharapkan memberikan manfaat yang luas bagi masyarakat.",
         "Dalam sambutannya, beliau menekankan pentingnya kolaborasi antarinstansi.",
         "Acara ditutup dengan sesi tanya jawab dan foto bersama.",
         "Peserta tampak antusias mengikuti seluruh rangkaian kegiatan.",
         "Ke depan, kegiatan serupa akan dilaksanakan secara rutin setiap bulan.",
         "Hal tersebut sejalan dengan visi dan misi pemerintah daerah.",
         "Warga menyambut baik program tersebut dan berharap terus berlanjut."]
TITLE_TEMPLATES = ["{org} Gelar {obj} di Desa {place}", "Sosialisasi {obj} bagi Warga {place}",
                   "Kunjungan Kerja Bupati ke {org}", "{obj} Serentak Tahun {year}",
                   "Rapat Evaluasi {obj} Triwulan {q}", "Pelantikan Pengurus Baru dan {obj}",
                   "{org} Raih Penghargaan {obj}", "Peringatan Hari Jadi ke-{n} dan {obj}",
                   "Pelatihan {obj} untuk Kader {place}", "Lomba {obj} Tingkat Kecamatan {place}"]
MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
             "November", "Desember"]
EXTRA_PROFILE = [("sejarah", "Sejarah"), ("tugas-pokok-dan-fungsi", "Tugas Pokok dan Fungsi"),
                 ("sarana-dan-prasarana", "Sarana dan Prasarana"), ("ppid", "PPID"),
                 ("pejabat-struktural", "Pejabat Struktural"), ("inovasi", "Inovasi"), ("agenda", "Agenda"),
                 ("pengumuman", "Pengumuman"), ("regulasi", "Regulasi"), ("faq", "FAQ")]
EXTERNAL = [("https://www.lapor.go.id/", "SP4N-LAPOR!"), ("https://www.menpan.go.id/", "Kementerian PANRB"),
            ("https://ombudsman.go.id/", "Ombudsman RI"), ("https://www.kemkes.go.id/", "Kementerian Kesehatan"),
            ("https://www.kemendagri.go.id/", "Kementerian Dalam Negeri"), ("https://jdih.go.id/", "JDIH Nasional"),
            ("https://oss.go.id/", "OSS RBA"), ("https://www.facebook.com/", "Facebook"),
            ("https://www.instagram.com/", "Instagram"), ("https://www.youtube.com/", "YouTube")]

HEAD_SCRIPT = (
    "window._wpemojiSettings = {\"baseUrl\":\"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/14.0.0\\/72x72\\/\","
    "\"ext\":\".png\",\"svgUrl\":\"https:\\/\\/s.w.org\\/images\\/core\\/emoji\\/14.0.0\\/svg\\/\",\"svgExt\":\".svg\","
    "\"source\":{\"concatemoji\":\"\\/wp-includes\\/js\\/wp-emoji-release.min.js?ver=6.4.3\"}};\n"
    "!function(i,n){var o,s,e;function c(e){try{var t={supportTests:e,timestamp:(new Date).valueOf()};"
    "sessionStorage.setItem(o,JSON.stringify(t))}catch(e){}}function p(e,t,n){e.clearRect(0,0,e.canvas.width,"
    "e.canvas.height),e.fillText(t,0,0);var t=new Uint32Array(e.getImageData(0,0,e.canvas.width,e.canvas.height)"
    ".data),r=(e.clearRect(0,0,e.canvas.width,e.canvas.height),e.fillText(n,0,0),new Uint32Array(e.getImageData"
    "(0,0,e.canvas.width,e.canvas.height).data));return t.every(function(e,t){return e===r[t]})}function u(e,t,n)"
    "{switch(t){case\"flag\":return n(e,\"\\ud83c\\udff3\\ufe0f\\u200d\\u26a7\\ufe0f\",\"\\ud83c\\udff3\\ufe0f"
    "\\u200b\\u26a7\\ufe0f\")?!1:!n(e,\"\\ud83c\\uddfa\\ud83c\\uddf3\",\"\\ud83c\\uddfa\\u200b\\ud83c\\uddf3\")}"
    "return!1}}((window,document),window._wpemojiSettings);\n"
)
FOOT_SCRIPT = (
    "(function(){var d=document,m=d.querySelector('.menu-toggle');if(m){m.addEventListener('click',function(){"
    "d.body.classList.toggle('menu-open');});}var t=d.querySelector('.back-to-top');window.addEventListener("
    "'scroll',function(){if(!t)return;t.style.display=window.scrollY>400?'block':'none';});"
    "var s=d.querySelectorAll('.slider .slide'),i=0;setInterval(function(){if(!s.length)return;s[i].classList."
    "remove('active');i=(i+1)%s.length;s[i].classList.add('active');},5000);})();\n"
)
CSS_SELECTORS = ["body", ".site-header", ".top-bar", ".main-navigation", ".main-navigation ul", ".sub-menu",
                 ".menu-item a", ".site-branding", ".site-title", ".breadcrumbs", ".content-area", ".entry-title",
                 ".entry-meta", ".entry-content p", ".widget", ".widget-title", ".sidebar", ".site-footer",
                 ".footer-widgets", ".copyright", ".btn", ".card", ".card-title", ".pagination a", ".table",
                 ".table th", ".table td", ".slider", ".slide", ".news-grid", ".service-box", ".back-to-top",
                 ".search-form input", ".gallery-item", ".post-thumbnail img", ".nav-links", ".page-numbers",
                 ".wp-block-image", ".has-text-align-center", ".screen-reader-text"]
CSS_PROPS = ["margin:0 auto", "padding:{a}px {b}px", "color:#{c}", "background:#{c}", "font-size:{f}px",
             "line-height:1.{b}", "border:1px solid #{c}", "display:flex", "flex-wrap:wrap", "max-width:{w}px",
             "border-radius:{a}px", "text-transform:uppercase", "font-weight:{fw}", "box-shadow:0 2px {a}px #{c}",
             "transition:all .3s ease", "position:relative", "z-index:{a}", "list-style:none"]


def _slug(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isalnum() and ch.isascii():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")[:70]


class TextPool:
    """Indonesian-looking sentences, built once per farm from the seed (cheap to draw from)."""

    def __init__(self, seed: int, size: int = 3000) -> None:
        rng = random.Random(f"pool:{seed}")
        self.sentences = []
        for _ in range(size):
            s = (f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(COMPLEMENTS)}"
                 f"{rng.choice(['', ' pada pekan ini', ' di tingkat kabupaten', ' bersama perangkat desa'])}.")
            if rng.random() < 0.3:
                s += " " + rng.choice(TAILS)
            self.sentences.append(s)

    def paragraph(self, rng: random.Random, n: int | None = None) -> str:
        return " ".join(rng.choices(self.sentences, k=n or rng.randint(3, 6)))


# --------------------------------------------------------------------------------------------
# PDF


def _pdf_escape(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def make_pdf(title: str, pages: list[list[str]], when: datetime) -> bytes:
    """A minimal valid PDF 1.4 with a text layer (Helvetica, WinAnsiEncoding), one text line per entry."""
    objects: list[bytes] = []
    n_pages = len(pages)
    page_ids = [5 + 2 * k for k in range(n_pages)]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % p for p in page_ids)
                   + b"] /Count %d >>" % n_pages)
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    stamp = when.strftime("D:%Y%m%d%H%M%SZ").encode()
    objects.append(b"<< /Title (" + _pdf_escape(title) + b") /Producer (Patuh benchmark farm) /CreationDate ("
                   + stamp + b") >>")
    for lines in pages:
        ops = [b"BT", b"/F1 10 Tf", b"14 TL", b"56 782 Td"]
        for line in lines:
            ops.append(b"(" + _pdf_escape(line) + b") Tj T*")
        ops.append(b"ET")
        stream = b"\n".join(ops) + b"\n"
        content_id = len(objects) + 2  # the page object comes first, its content right after
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
                       b" /Contents %d 0 R >>" % content_id)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    file_id = hashlib.md5(bytes(out)).hexdigest().encode()
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R /ID [<" % (len(objects) + 1) + file_id + b"> <"
            + file_id + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return bytes(out)


# --------------------------------------------------------------------------------------------
# one site


@dataclass
class Post:
    title: str
    slug: str
    day: date
    paragraphs: int

    @property
    def path(self) -> str:
        return f"/berita/{self.slug}/"


@dataclass
class Site:
    number: int
    base: str
    name: str
    kind: str
    region: str
    province: str
    publishes: dict[str, str]  # indicator -> "page" | "placeholder" | "none"
    flags: dict[str, bool]
    services: list[tuple[str, str, str, str]]
    posts: list[Post]
    months: list[tuple[int, int]]
    extra_profile: list[tuple[str, str]]
    pdfs: list[tuple[str, str]]  # (path, title)
    pages: dict[str, bytes] = field(default_factory=dict)
    mtimes: dict[str, float] = field(default_factory=dict)
    linked: set[str] = field(default_factory=set)


def _choose_site(number: int, pages: int, seed: int, port: int) -> tuple[Site, random.Random]:
    rng = random.Random(f"site:{seed}:{number}:{pages}")
    kind = rng.choices([k for k, _ in KIND_WEIGHTS], weights=[w for _, w in KIND_WEIGHTS])[0]
    region, province = rng.choice(REGIONS)
    if kind == "puskesmas":
        name = f"UPTD Puskesmas {rng.choice(PLACES)}"
    elif kind == "opd":
        name = f"{rng.choice(OPD_NAMES)} {region}"
    else:
        name = f"{KIND_NAMES[kind]} {region}"
    publishes = {}
    for key, p in (("standar", 0.6), ("maklumat", 0.55), ("pengaduan", 0.7), ("skm", 0.5)):
        if rng.random() < p:
            publishes[key] = "page"
        else:
            publishes[key] = "placeholder" if rng.random() < 0.5 else "none"
    flags = {
        "std_in_services": rng.random() < 0.5, "std_pdf": rng.random() < 0.4, "maklumat_pdf": rng.random() < 0.3,
        "skm_pdf": rng.random() < 0.3, "hours": rng.random() < 0.7, "disability": rng.random() < 0.3,
        "mobile_menu": rng.random() < 0.5, "relative_links": rng.random() < 0.3,
    }
    year = 2024 + rng.randint(0, 1)
    pdfs: list[tuple[str, str]] = []
    up = f"/wp-content/uploads/{year}/{rng.randint(1, 9):02d}"
    if flags["std_pdf"]:
        pdfs.append((f"{up}/standar-pelayanan-{year}.pdf", f"Standar Pelayanan {name}"))
    if flags["maklumat_pdf"]:
        pdfs.append((f"{up}/maklumat-pelayanan.pdf", f"Maklumat Pelayanan {name}"))
    if flags["skm_pdf"]:
        pdfs.append((f"{up}/laporan-skm-semester-1-{year}.pdf", f"Laporan Survei Kepuasan Masyarakat {year}"))
    pdfs.append((f"{up}/renstra-{year - 3}-{year + 2}.pdf", f"Rencana Strategis {year - 3}-{year + 2}"))
    if rng.random() < 0.5:
        pdfs.append((f"{up}/laporan-kinerja-{year - 1}.pdf", f"Laporan Kinerja Instansi Pemerintah {year - 1}"))
    all_services = SERVICES[kind]
    n_services = min(len(all_services), rng.randint(3, 6))
    services = rng.sample(all_services, n_services)
    fixed = 8 + sum(1 for v in publishes.values() if v != "none") + len(pdfs)
    remaining = pages - fixed - n_services
    while remaining < 3 and len(services) > 1:
        services.pop()
        remaining += 1
    if remaining < 0:
        raise ValueError(f"--pages {pages} is too small (at least {MIN_PAGES})")
    # news: posts every 2-9 days back from a recent day; P posts need ceil(P/5)-1 more index pages and one
    # archive page per month
    start = date(year, rng.randint(6, 11), rng.randint(1, 28))
    days = [start]
    for _ in range(max(remaining, 1)):
        days.append(days[-1] - timedelta(days=rng.randint(2, 9)))
    n_posts = 0
    for p in range(remaining, -1, -1):
        n_months = len({(d.year, d.month) for d in days[:p]})
        if p + max(0, -(-p // 5) - 1) + n_months <= remaining:
            n_posts = p
            break
    posts = []
    used_slugs: set[str] = set()
    for d in days[:n_posts]:
        title = rng.choice(TITLE_TEMPLATES).format(
            org=name.replace("UPTD ", ""), obj=rng.choice(OBJECTS).title(), place=rng.choice(PLACES),
            year=d.year, q=rng.choice(["I", "II", "III", "IV"]), n=rng.randint(10, 80))
        slug = _slug(title)
        while slug in used_slugs:
            slug += f"-{rng.randint(2, 99)}"
        used_slugs.add(slug)
        posts.append(Post(title=title, slug=slug, day=d, paragraphs=rng.randint(4, 9)))
    months = sorted({(d.year, d.month) for d in days[:n_posts]}, reverse=True)
    left = remaining - n_posts - max(0, -(-n_posts // 5) - 1) - len(months)
    extra_profile = EXTRA_PROFILE[:max(0, left)]
    left -= len(extra_profile)
    site = Site(number=number, base=f"http://{site_address(number)}:{port}", name=name, kind=kind, region=region,
                province=province, publishes=publishes, flags=flags, services=services, posts=posts, months=months,
                extra_profile=extra_profile, pdfs=pdfs)
    return site, rng


class SiteWriter:
    """Renders every page of one site into `site.pages` (path -> bytes)."""

    def __init__(self, site: Site, rng: random.Random, pool: TextPool) -> None:
        self.s = site
        self.rng = rng
        self.pool = pool
        self.updated = datetime(site.posts[0].day.year if site.posts else 2024, 1, 15, 9, 30, tzinfo=UTC)
        self.phone = f"(0{rng.randint(21, 979)}) {rng.randint(100, 999)}{rng.randint(1000, 9999)}"
        self.wa = f"0812-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}"
        self.email = f"{_slug(site.name.split()[-1])}{rng.randint(1, 99)}@{_slug(site.region).replace('-', '')}.go.id"
        self.address = (f"Jl. {rng.choice(['Jenderal Sudirman', 'Ahmad Yani', 'Diponegoro', 'Gajah Mada', 'Merdeka'])}"
                        f" No. {rng.randint(1, 200)}, Kecamatan {rng.choice(PLACES)}, {site.region}, "
                        f"{site.province} {rng.randint(10000, 99999)}")
        self.head = self._head_boilerplate()
        self.nav_items = self._nav_items()

    # -- links ---------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        self.s.linked.add(path)
        if self.s.flags["relative_links"] and self.rng.random() < 0.5:
            return path
        return self.s.base + path

    def a(self, path: str, text: str, cls: str = "") -> str:
        c = f' class="{cls}"' if cls else ""
        return f'<a href="{escape(self.url(path))}"{c}>{escape(text)}</a>'

    # -- boilerplate ---------------------------------------------------------------------------
    def _head_boilerplate(self) -> str:
        rng = self.rng
        rules = []
        for sel in CSS_SELECTORS:
            props = ";".join(p.format(a=rng.randint(2, 30), b=rng.randint(2, 9), c=f"{rng.randint(0, 0xFFFFFF):06x}",
                                      f=rng.randint(11, 28), w=rng.choice([960, 1140, 1200, 1320]),
                                      fw=rng.choice([400, 500, 600, 700]))
                             for p in rng.sample(CSS_PROPS, rng.randint(3, 8)))
            rules.append(f"{sel}{{{props}}}")
            if rng.random() < 0.5:
                rules.append(f"@media (max-width:{rng.choice([576, 768, 992])}px){{{sel}{{{props}}}}}")
        css = "\n".join(rules)
        links = "\n".join(
            f'<link rel="stylesheet" id="{n}-css" href="{self.s.base}/wp-content/themes/dinas/{n}.css?ver=6.4.3" '
            f'media="all">' for n in ("style", "bootstrap.min", "font-awesome", "slick", "responsive"))
        ld = json.dumps({"@context": "https://schema.org", "@type": "GovernmentOrganization", "name": self.s.name,
                         "url": self.s.base + "/", "address": self.address, "telephone": self.phone},
                        ensure_ascii=False)
        return (f'<meta charset="UTF-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f'<meta name="generator" content="WordPress 6.4.3">\n{links}\n'
                f'<script>{HEAD_SCRIPT}</script>\n<style id="theme-inline-css">\n{css}\n</style>\n'
                f'<script type="application/ld+json">{ld}</script>\n'
                f'<link rel="icon" href="{self.s.base}/wp-content/uploads/favicon.png">\n')

    def _nav_items(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        s = self.s
        profil = [("/profil/visi-misi/", "Visi dan Misi"), ("/profil/struktur-organisasi/", "Struktur Organisasi")]
        profil += [(f"/profil/{slug}/", title) for slug, title in s.extra_profile]
        layanan: list[tuple[str, str]] = []
        if s.publishes["standar"] != "none":
            layanan.append(("/layanan/standar-pelayanan/", "Standar Pelayanan"))
        if s.publishes["maklumat"] != "none":
            layanan.append(("/layanan/maklumat-pelayanan/", "Maklumat Pelayanan"))
        layanan += [(f"/layanan/{_slug(svc[0])}/", svc[0]) for svc in s.services]
        items = [("/", "Beranda", []), ("/profil/", "Profil", profil), ("/layanan/", "Layanan", layanan)]
        if s.publishes["pengaduan"] != "none":
            items.append(("/pengaduan/", "Pengaduan", []))
        if s.publishes["skm"] != "none":
            items.append(("/survei-kepuasan-masyarakat/", "SKM", []))
        items += [("/berita/", "Berita", []), ("/galeri/", "Galeri", []), ("/kontak/", "Kontak", [])]
        return items

    def nav(self, current: str, mobile: bool = False) -> str:
        out = []
        for path, title, children in self.nav_items:
            cls = "menu-item" + (" current-menu-item" if path == current else "")
            if children:
                cls += " menu-item-has-children"
                sub = "".join(f'<li class="menu-item">{self.a(p, t)}</li>' for p, t in children)
                out.append(f'<li class="{cls}">{self.a(path, title)}<ul class="sub-menu">{sub}</ul></li>')
            else:
                out.append(f'<li class="{cls}">{self.a(path, title)}</li>')
        ident = "mobile-menu" if mobile else "primary-menu"
        return f'<ul id="{ident}" class="menu nav-menu">{"".join(out)}</ul>'

    def sidebar(self) -> str:
        s = self.s
        recent = "".join(f"<li>{self.a(p.path, p.title)}<span class=\"post-date\">{self.tanggal(p.day)}</span></li>"
                         for p in s.posts[:5])
        archive = "".join(f"<li>{self.a(f'/{y}/{m:02d}/', f'{MONTHS_ID[m - 1]} {y}')}</li>" for y, m in s.months[:12])
        ext = "".join(f'<li><a href="{u}" target="_blank" rel="noopener">{escape(t)}</a></li>'
                      for u, t in self.rng.sample(EXTERNAL, 5))
        return (f'<aside id="secondary" class="sidebar widget-area">'
                f'<section class="widget widget_search"><form role="search" method="get" class="search-form" '
                f'action="{s.base}/"><label><span class="screen-reader-text">Cari:</span>'
                f'<input type="search" class="search-field" placeholder="Cari &hellip;" name="s"></label>'
                f'<input type="submit" class="search-submit" value="Cari"></form></section>'
                f'<section class="widget widget_recent_entries"><h2 class="widget-title">Berita Terbaru</h2>'
                f"<ul>{recent}</ul></section>"
                f'<section class="widget widget_archive"><h2 class="widget-title">Arsip</h2>'
                f"<ul>{archive}</ul></section>"
                f'<section class="widget widget_links"><h2 class="widget-title">Tautan Terkait</h2><ul>{ext}</ul>'
                f"</section></aside>")

    def footer(self) -> str:
        s = self.s
        hours = ""
        if s.flags["hours"]:
            hours = ('<section class="widget"><h3 class="widget-title">Jam Pelayanan</h3><ul>'
                     "<li>Senin - Kamis: 07.30 - 14.00 WIB</li><li>Jumat: 07.30 - 11.00 WIB</li>"
                     "<li>Sabtu: 07.30 - 12.30 WIB</li></ul></section>")
        social = "".join(f'<a href="{u}" class="social" target="_blank">{t}</a>' for u, t in EXTERNAL[7:])
        return (f'<footer id="colophon" class="site-footer"><div class="footer-widgets container">'
                f'<section class="widget"><h3 class="widget-title">Alamat</h3><p>{escape(s.name)}<br>'
                f"{escape(self.address)}</p><p>Telp. {self.phone}<br>Email: {self.email}</p></section>{hours}"
                f'<section class="widget"><h3 class="widget-title">Statistik Pengunjung</h3><ul>'
                f"<li>Hari ini: {self.rng.randint(10, 400)}</li><li>Bulan ini: {self.rng.randint(1000, 9000)}</li>"
                f"<li>Total: {self.rng.randint(20000, 400000)}</li></ul></section>"
                f'<section class="widget"><h3 class="widget-title">Ikuti Kami</h3>{social}</section></div>'
                f'<div class="site-info copyright">&copy; {self.updated.year} {escape(s.name)}. '
                f"Hak cipta dilindungi undang-undang.</div></footer>"
                f'<a href="#page" class="back-to-top">&uarr;</a>')

    def page(self, path: str, title: str, main: str, when: datetime | None = None, fill: bool = True) -> None:
        s = self.s
        crumbs = f'<nav class="breadcrumbs">{self.a("/", "Beranda")} &raquo; <span>{escape(title)}</span></nav>'
        mobile = (f'<div class="mobile-nav offcanvas">{self.nav(path, mobile=True)}</div>'
                  if s.flags["mobile_menu"] else "")
        top = (f'<div class="top-bar"><span>Telp. {self.phone}</span> <span>{self.email}</span></div>'
               f'<header id="masthead" class="site-header"><div class="site-branding">'
               f'<img src="{s.base}/wp-content/uploads/logo.png" alt="Logo" width="64" height="64">'
               f'<p class="site-title">{self.a("/", s.name)}</p><p class="site-description">{escape(s.region)}, '
               f'{escape(s.province)}</p></div><button class="menu-toggle">Menu</button>'
               f'<nav id="site-navigation" class="main-navigation">{self.nav(path)}</nav></header>{mobile}')
        head = (f'<!DOCTYPE html>\n<html lang="id">\n<head>\n<title>{escape(title)} &#8211; {escape(s.name)}</title>\n'
                f'<meta name="description" content="{escape(title)} - {escape(s.name)}">\n'
                f'<link rel="canonical" href="{s.base}{path}">\n{self.head}</head>\n'
                f'<body class="page-template-default page"><div id="page" class="site">')
        tail = (f"{self.sidebar()}</div>{self.footer()}</div>\n<script>{FOOT_SCRIPT}</script>\n"
                f'<script src="{s.base}/wp-includes/js/jquery/jquery.min.js?ver=3.7.1"></script>\n</body>\n</html>\n')
        body_open = (f'{top}<div id="content" class="site-content container">{crumbs}'
                     f'<main id="main" class="content-area"><article><header class="entry-header">'
                     f'<h1 class="entry-title">{escape(title)}</h1></header><div class="entry-content">')
        body_close = "</div></article></main>"
        parts = [head, body_open, main]
        size = len(head) + len(body_open) + len(main) + len(body_close) + len(tail)
        if fill:
            target = self.rng.randint(15_000, 40_000)
            extra = []
            while size < target:
                para = f"<p>{escape(self.pool.paragraph(self.rng))}</p>"
                extra.append(para)
                size += len(para)
            if extra:
                parts.append('<section class="more-info"><h2>Informasi Lainnya</h2>' + "".join(extra) + "</section>")
        parts += [body_close, tail]
        s.pages[path] = "".join(parts).encode("utf-8")
        s.mtimes[path] = (when or self.updated).timestamp()

    @staticmethod
    def tanggal(d: date) -> str:
        return f"{d.day} {MONTHS_ID[d.month - 1]} {d.year}"

    # -- content -------------------------------------------------------------------------------
    def standard_table(self, svc: tuple[str, str, str, str]) -> str:
        name, requirement, product, duration = svc
        rng = self.rng
        fee = rng.choice(["Gratis / tidak dipungut biaya", f"Rp {rng.randint(1, 50) * 5}.000,- sesuai Peraturan Daerah "
                          f"Nomor {rng.randint(1, 12)} Tahun {rng.randint(2012, 2023)} tentang Retribusi",
                          "Tidak dipungut biaya bagi peserta JKN; umum sesuai Perbup tentang tarif"])
        steps = "".join(f"<li>{t}</li>" for t in [
            "Pemohon datang ke loket pendaftaran dan mengambil nomor antrean",
            "Petugas memeriksa kelengkapan berkas persyaratan", "Berkas diverifikasi dan diproses oleh petugas",
            "Dokumen ditandatangani oleh pejabat yang berwenang", "Produk layanan diserahkan kepada pemohon"])
        reqs = "".join(f"<li>{t}</li>" for t in [requirement, "Mengisi formulir permohonan", "Fotokopi KTP pemohon"])
        rows = [("Persyaratan", f"<ol>{reqs}</ol>"), ("Sistem, Mekanisme dan Prosedur", f"<ol>{steps}</ol>"),
                ("Jangka Waktu Penyelesaian", escape(duration)), ("Biaya/Tarif", escape(fee)),
                ("Produk Pelayanan", escape(product)),
                ("Penanganan Pengaduan, Saran dan Masukan",
                 f"Kotak saran di ruang tunggu, WhatsApp {self.wa}, email {self.email}, dan SP4N-LAPOR! "
                 '(<a href="https://www.lapor.go.id/">www.lapor.go.id</a>)')]
        body = "".join(f"<tr><td>{k + 1}</td><td>{label}</td><td>{value}</td></tr>"
                       for k, (label, value) in enumerate(rows))
        return (f"<h3>Standar Pelayanan {escape(name)}</h3><table class=\"table table-bordered\"><thead><tr><th>No"
                f"</th><th>Komponen</th><th>Uraian</th></tr></thead><tbody>{body}</tbody></table>")

    def pdf_links(self, words: Iterable[str] = ()) -> str:
        chosen = [(p, t) for p, t in self.s.pdfs if not words or any(w in p for w in words)]
        if not chosen:
            return ""
        items = "".join(f"<li>{self.a(p, t + ' (PDF)')}</li>" for p, t in chosen)
        return f'<div class="wp-block-file"><h3>Unduhan</h3><ul>{items}</ul></div>'

    def placeholder(self, path: str, title: str) -> None:
        self.page(path, title, "<p>Halaman ini sedang dalam proses pembaruan. Silakan kembali lagi nanti.</p>",
                  fill=False)

    def build(self) -> None:
        s, rng = self.s, self.rng
        svc_links = "".join(f'<div class="service-box card"><h3 class="card-title">'
                            f"{self.a(f'/layanan/{_slug(v[0])}/', v[0])}</h3><p>{escape(self.pool.paragraph(rng, 1))}"
                            f"</p></div>" for v in s.services)
        news_cards = "".join(f'<div class="card"><img src="{s.base}/wp-content/uploads/thumb-{k}.jpg" alt="">'
                             f'<h3 class="card-title">{self.a(p.path, p.title)}</h3><span class="post-date">'
                             f"{self.tanggal(p.day)}</span><p>{escape(self.pool.paragraph(rng, 2))}</p></div>"
                             for k, p in enumerate(s.posts[:6]))
        quick = []
        for key, path, label in (("standar", "/layanan/standar-pelayanan/", "Standar Pelayanan"),
                                 ("maklumat", "/layanan/maklumat-pelayanan/", "Maklumat Pelayanan"),
                                 ("pengaduan", "/pengaduan/", "Layanan Pengaduan"),
                                 ("skm", "/survei-kepuasan-masyarakat/", "Survei Kepuasan Masyarakat")):
            if s.publishes[key] == "page":
                quick.append(f"<li>{self.a(path, label)}</li>")
        home = (f'<div class="slider"><div class="slide active"><img src="{s.base}/wp-content/uploads/banner-1.jpg" '
                f'alt="Banner"></div><div class="slide"><img src="{s.base}/wp-content/uploads/banner-2.jpg" alt="">'
                f"</div></div><h2>Sambutan Kepala</h2><p>{escape(self.pool.paragraph(rng))}</p>"
                f'<h2>Layanan Kami</h2><div class="services">{svc_links}</div>'
                f'<h2>Informasi Publik</h2><ul class="quick-links">{"".join(quick)}</ul>'
                f'<h2>Berita Terbaru</h2><div class="news-grid">{news_cards}</div>'
                f"<p>{self.a('/berita/', 'Lihat semua berita')}</p>")
        self.page("/", s.name, home)
        # profile
        self.page("/profil/", "Profil", f"<p>{escape(self.pool.paragraph(rng))}</p>"
                  f"<ul>{''.join(f'<li>{self.a(p, t)}</li>' for p, t in self.nav_items[1][2])}</ul>")
        self.page("/profil/visi-misi/", "Visi dan Misi",
                  f"<h2>Visi</h2><p>Terwujudnya pelayanan publik yang prima, transparan dan akuntabel di "
                  f"{escape(s.region)}.</p><h2>Misi</h2><ol>"
                  + "".join(f"<li>{escape(self.pool.paragraph(rng, 1))}</li>" for _ in range(5)) + "</ol>")
        names = ["Dr. Andi Pratama, M.Kes", "Sri Wahyuni, S.KM", "Budi Santoso, S.Sos", "Rina Marlina, S.E.",
                 "Ir. Hendra Gunawan", "dr. Maya Sari"]
        self.page("/profil/struktur-organisasi/", "Struktur Organisasi",
                  f'<img src="{s.base}/wp-content/uploads/struktur.jpg" alt="Bagan struktur organisasi"><ul>'
                  + "".join(f"<li>{r}: {n}</li>" for r, n in zip(
                      ["Kepala", "Sekretaris", "Kepala Bidang Pelayanan", "Kepala Subbagian Umum",
                       "Kepala Seksi Data", "Koordinator Mutu"], rng.sample(names, 6), strict=True)) + "</ul>")
        for slug, title in s.extra_profile:
            extra = ""
            if slug == "sarana-dan-prasarana" and s.flags["disability"]:
                extra = ("<p>Kami menyediakan sarana ramah disabilitas: kursi roda, jalur landai (ramp), toilet "
                         "khusus penyandang disabilitas, serta loket prioritas bagi lansia, ibu hamil dan penyandang "
                         "disabilitas.</p>")
            self.page(f"/profil/{slug}/", title, extra + f"<p>{escape(self.pool.paragraph(rng))}</p>")
        # services
        svc_list = "".join(f"<li>{self.a(f'/layanan/{_slug(v[0])}/', v[0])}</li>" for v in s.services)
        access = ""
        if s.flags["disability"]:
            access = ("<h3>Layanan Inklusif</h3><p>Tersedia layanan prioritas dan sarana ramah disabilitas "
                      "(kursi roda, ramp, petugas pendamping).</p>")
        self.page("/layanan/", "Layanan", f"<p>Jenis layanan yang kami selenggarakan:</p><ul>{svc_list}</ul>"
                  f"{access}{self.pdf_links()}")
        for k, svc in enumerate(s.services):
            if s.flags["std_in_services"] and k % 2 == 0:
                body = f"<p>{escape(self.pool.paragraph(rng, 2))}</p>{self.standard_table(svc)}"
            else:
                body = (f"<p>{escape(self.pool.paragraph(rng, 3))}</p><p>Untuk informasi persyaratan silakan datang "
                        f"langsung ke loket pelayanan.</p>")
            back = f"<p>{self.a('/layanan/', 'Kembali ke Layanan')}</p>"
            self.page(f"/layanan/{_slug(svc[0])}/", svc[0], body + back)
        self.indicator_pages()
        self.news()
        gallery = "".join(f'<figure class="gallery-item"><img src="{s.base}/wp-content/uploads/galeri-{k}.jpg" '
                          f'alt="Dokumentasi kegiatan {k}"><figcaption>{escape(self.pool.paragraph(rng, 1))}'
                          f"</figcaption></figure>" for k in range(12))
        self.page("/galeri/", "Galeri", f'<div class="gallery">{gallery}</div>')
        hours = ("<h3>Jam Pelayanan</h3><p>Senin - Kamis: 07.30 - 14.00 WIB<br>Jumat: 07.30 - 11.00 WIB<br>"
                 "Sabtu: 07.30 - 12.30 WIB</p>") if s.flags["hours"] else ""
        self.page("/kontak/", "Kontak", f"<p>{escape(s.name)}</p><p>Alamat: {escape(self.address)}</p>"
                  f"<p>Telepon: {self.phone}<br>WhatsApp: {self.wa}<br>Email: {self.email}</p>{hours}"
                  '<iframe src="https://www.google.com/maps/embed?pb=placeholder" width="600" height="300"></iframe>')
        for path, title in s.pdfs:
            self.pdf(path, title)

    def indicator_pages(self) -> None:
        s, rng = self.s, self.rng
        spec = [("standar", "/layanan/standar-pelayanan/", "Standar Pelayanan"),
                ("maklumat", "/layanan/maklumat-pelayanan/", "Maklumat Pelayanan"),
                ("pengaduan", "/pengaduan/", "Pengaduan"),
                ("skm", "/survei-kepuasan-masyarakat/", "Survei Kepuasan Masyarakat")]
        for key, path, title in spec:
            mode = s.publishes[key]
            if mode == "placeholder":
                self.placeholder(path, title)
            elif mode == "page":
                if key == "standar":
                    tables = "".join(self.standard_table(v) for v in s.services[:rng.randint(2, 4)])
                    body = (f"<p>Standar Pelayanan {escape(s.name)} ditetapkan dengan Keputusan Kepala Nomor "
                            f"{rng.randint(10, 400)}/{rng.randint(1, 99)}/{s.posts[0].day.year if s.posts else 2024}"
                            f".</p>{tables}{self.pdf_links(['standar'])}")
                elif key == "maklumat":
                    body = (f'<div class="maklumat"><h2>MAKLUMAT PELAYANAN</h2><p>DENGAN INI, KAMI MENYATAKAN SANGGUP '
                            f"MENYELENGGARAKAN PELAYANAN SESUAI STANDAR PELAYANAN YANG TELAH DITETAPKAN DAN APABILA "
                            f"TIDAK MENEPATI JANJI INI, KAMI SIAP MENERIMA SANKSI SESUAI PERATURAN PERUNDANG-UNDANGAN "
                            f"YANG BERLAKU.</p><p>Kepala {escape(s.name)}</p></div>{self.pdf_links(['maklumat'])}")
                elif key == "pengaduan":
                    body = ("<p>Sampaikan pengaduan, saran dan masukan Anda melalui saluran berikut:</p><ul>"
                            '<li>SP4N-LAPOR!: <a href="https://www.lapor.go.id/">www.lapor.go.id</a> atau SMS 1708</li>'
                            f"<li>WhatsApp: {self.wa}</li><li>Email: {self.email}</li><li>Telepon: {self.phone}</li>"
                            "<li>Kotak saran di ruang tunggu pelayanan</li></ul><h3>Alur Penanganan Pengaduan</h3><ol>"
                            "<li>Pengaduan diterima dan dicatat petugas</li><li>Pengaduan diverifikasi</li>"
                            "<li>Pengaduan ditindaklanjuti paling lambat 14 hari kerja</li>"
                            "<li>Jawaban disampaikan kepada pengadu</li></ol>")
                else:
                    unsur = ["Persyaratan", "Sistem, Mekanisme dan Prosedur", "Waktu Penyelesaian", "Biaya/Tarif",
                             "Produk Spesifikasi Jenis Pelayanan", "Kompetensi Pelaksana", "Perilaku Pelaksana",
                             "Penanganan Pengaduan, Saran dan Masukan", "Sarana dan Prasarana"]
                    rows = "".join(f"<tr><td>U{k + 1}</td><td>{u}</td><td>{rng.uniform(3.0, 3.9):.2f}</td></tr>"
                                   for k, u in enumerate(unsur))
                    ikm = rng.uniform(76, 95)
                    body = (f"<p>Hasil Survei Kepuasan Masyarakat (SKM) semester I: Indeks Kepuasan Masyarakat (IKM) "
                            f"{ikm:.2f}, mutu pelayanan {'A (Sangat Baik)' if ikm > 88 else 'B (Baik)'}.</p>"
                            f'<table class="table"><thead><tr><th>Kode</th><th>Unsur</th><th>Nilai</th></tr></thead>'
                            f"<tbody>{rows}</tbody></table><p>Isi survei: "
                            f'<a href="https://forms.gle/survei-{s.number}">formulir SKM daring</a></p>'
                            f"{self.pdf_links(['skm'])}")
                self.page(path, title, body)

    def news(self) -> None:
        s, rng = self.s, self.rng
        posts = s.posts
        per_page = 5
        n_index = max(1, -(-len(posts) // per_page))
        for k in range(n_index):
            chunk = posts[k * per_page:(k + 1) * per_page]
            items = "".join(f'<article class="post"><h2 class="entry-title">{self.a(p.path, p.title)}</h2>'
                            f'<div class="entry-meta">{self.tanggal(p.day)}</div><p>'
                            f"{escape(self.pool.paragraph(rng, 2))}</p>{self.a(p.path, 'Baca selengkapnya')}"
                            f"</article>" for p in chunk)
            nums = []
            for j in range(n_index):
                if j == k:
                    nums.append(f'<span class="page-numbers current">{j + 1}</span>')
                elif abs(j - k) <= 2 or j in (0, n_index - 1):
                    nums.append(self.a("/berita/" if j == 0 else f"/berita/page/{j + 1}/", str(j + 1),
                                       "page-numbers"))
            if k + 1 < n_index:
                nums.append(self.a(f"/berita/page/{k + 2}/", "Berikutnya »", "next page-numbers"))
            path = "/berita/" if k == 0 else f"/berita/page/{k + 1}/"
            self.page(path, "Berita" if k == 0 else f"Berita – Halaman {k + 1}",
                      f'{items}<nav class="pagination nav-links">{"".join(nums)}</nav>', fill=False)
        for y, m in s.months:
            month_posts = [p for p in posts if (p.day.year, p.day.month) == (y, m)]
            items = "".join(f"<article><h2>{self.a(p.path, p.title)}</h2><p>{escape(self.pool.paragraph(rng, 2))}"
                            f"</p></article>" for p in month_posts)
            last = calendar.monthrange(y, m)[1]
            self.page(f"/{y}/{m:02d}/", f"Arsip {MONTHS_ID[m - 1]} {y}", items,
                      when=datetime(y, m, last, 23, 0, tzinfo=UTC), fill=False)
        for k, p in enumerate(posts):
            body = [f'<div class="entry-meta">Diposting pada {self.tanggal(p.day)} oleh Admin</div>',
                    f'<figure class="post-thumbnail"><img src="{s.base}/wp-content/uploads/berita-{k}.jpg" '
                    'alt=""></figure>']
            body += [f"<p>{escape(self.pool.paragraph(rng))}</p>" for _ in range(p.paragraphs)]
            share = f"https://www.facebook.com/sharer/sharer.php?u={s.base}{p.path}"
            body.append(f'<div class="share"><a href="{escape(share)}">Bagikan</a></div><nav class="nav-links">')
            if k + 1 < len(posts):
                body.append(self.a(posts[k + 1].path, "« " + posts[k + 1].title, "nav-previous"))
            if k > 0:
                body.append(self.a(posts[k - 1].path, posts[k - 1].title + " »", "nav-next"))
            body.append("</nav>")
            self.page(p.path, p.title, "".join(body), when=datetime.combine(p.day, datetime.min.time(), UTC))

    def pdf(self, path: str, title: str) -> None:
        s, rng = self.s, self.rng
        pages = []
        for k in range(rng.randint(1, 3)):
            lines = [title.upper(), s.name.upper(), ""] if k == 0 else []
            if "standar" in path and k == 0:
                for svc in s.services[:2]:
                    lines += [f"STANDAR PELAYANAN {svc[0].upper()}", f"Persyaratan: {svc[1]}",
                              "Prosedur: pemohon mendaftar di loket, berkas diverifikasi, produk diserahkan",
                              f"Jangka waktu penyelesaian: {svc[3]}", "Biaya/tarif: gratis",
                              f"Produk pelayanan: {svc[2]}", f"Pengaduan: WhatsApp {self.wa}, SP4N-LAPOR!", ""]
            while len(lines) < 48:
                sentence = rng.choice(self.pool.sentences)
                lines += [sentence[i:i + 90] for i in range(0, len(sentence), 90)]
            pages.append(lines[:50])
        when = self.updated
        s.pages[path] = make_pdf(title, pages, when)
        s.mtimes[path] = when.timestamp()


def build_site(number: int, pages: int, seed: int, port: int, pool: TextPool) -> Site:
    site, rng = _choose_site(number, pages, seed, port)
    writer = SiteWriter(site, rng, pool)
    writer.build()
    missing = site.linked - set(site.pages)
    if missing:
        raise AssertionError(f"site {number}: links to pages that were not written: {sorted(missing)[:5]}")
    if len(site.pages) != pages:
        raise AssertionError(f"site {number}: {len(site.pages)} pages written, {pages} wanted")
    return site


def _file_for(root: Path, path: str) -> Path:
    rel = path.lstrip("/")
    return root / rel / "index.html" if path.endswith("/") else root / rel


# --------------------------------------------------------------------------------------------
# the farm


@dataclass
class Farm:
    root: Path
    sites: int
    pages: int
    seed: int
    port: int
    gzip: bool

    @property
    def units_csv(self) -> Path:
        return self.root / "units.csv"

    @property
    def conf(self) -> Path:
        return self.root / "nginx" / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.root / "nginx" / "nginx.pid"

    def urls(self, n: int | None = None) -> list[str]:
        return [site_url(i, self.port) for i in range(n or self.sites)]


def _stamp(number: int, pages: int, seed: int, port: int, gz: bool) -> str:
    return json.dumps({"v": FARM_VERSION, "n": number, "pages": pages, "seed": seed, "port": port, "gzip": gz})


def build_farm(root: Path = DEFAULT_DIR, sites: int = 100, pages: int = 30, seed: int = 1, port: int = DEFAULT_PORT,
               gz: bool = True, force: bool = False, quiet: bool = False) -> Farm:
    """Write (or complete) a farm of `sites` sites under `root`; sites already written with the same
    parameters are kept, so growing a farm from 100 to 1,000 sites only writes the 900 new ones."""
    if pages < MIN_PAGES:
        raise ValueError(f"pages per site must be at least {MIN_PAGES}")
    if not 1 <= sites <= MAX_SITES:
        raise ValueError(f"sites must be 1..{MAX_SITES}")
    root = root.resolve()
    (root / "sites").mkdir(parents=True, exist_ok=True)
    pool = TextPool(seed)
    t0 = time.monotonic()
    written = 0
    meta: list[dict[str, str]] = []
    for i in range(sites):
        site_root = root / "sites" / site_address(i)
        stamp_file = site_root / ".stamp"
        stamp = _stamp(i, pages, seed, port, gz)
        meta_file = site_root / ".unit.json"
        if not force and stamp_file.exists() and stamp_file.read_text() == stamp and meta_file.exists():
            meta.append(json.loads(meta_file.read_text()))
            continue
        if site_root.exists():
            shutil.rmtree(site_root)
        site = build_site(i, pages, seed, port, pool)
        for path, data in site.pages.items():
            target = _file_for(site_root, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.utime(target, (site.mtimes[path], site.mtimes[path]))
            if gz and not path.endswith(".pdf"):
                gz_file = target.with_name(target.name + ".gz")
                gz_file.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
                os.utime(gz_file, (site.mtimes[path], site.mtimes[path]))
        robots = site_root / "robots.txt"
        robots.write_text("User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n")
        os.utime(robots, (site.mtimes["/"], site.mtimes["/"]))
        unit = {"name": site.name, "kind": site.kind, "region": site.region, "url": site_url(i, port),
                "province": site.province, "publishes": json.dumps(site.publishes, sort_keys=True),
                "pages": str(len(site.pages))}
        meta_file.write_text(json.dumps(unit, ensure_ascii=False))
        stamp_file.write_text(stamp)
        meta.append(unit)
        written += 1
        if not quiet and written % 100 == 0:
            print(f"  farm: {written} sites written ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    farm = Farm(root=root, sites=sites, pages=pages, seed=seed, port=port, gzip=gz)
    write_units_csv(farm, farm.units_csv, sites, meta)
    (root / "manifest.json").write_text(json.dumps(
        {"version": FARM_VERSION, "sites": sites, "pages": pages, "seed": seed, "port": port, "gzip": gz,
         "first_url": site_url(0, port), "last_url": site_url(sites - 1, port)}, indent=2))
    write_nginx_conf(farm, sites)
    if not quiet:
        print(f"  farm: {sites} sites x {pages} pages in {root} ({written} written, "
              f"{time.monotonic() - t0:.1f} s)", file=sys.stderr)
    return farm


def load_farm(root: Path = DEFAULT_DIR) -> Farm:
    root = root.resolve()
    m = json.loads((root / "manifest.json").read_text())
    return Farm(root=root, sites=m["sites"], pages=m["pages"], seed=m["seed"], port=m["port"], gzip=m["gzip"])


def write_units_csv(farm: Farm, path: Path, n: int, meta: list[dict[str, str]] | None = None) -> Path:
    """`units.csv` for the first `n` sites (name,kind,region,url,province)."""
    if meta is None:
        meta = [json.loads((farm.root / "sites" / site_address(i) / ".unit.json").read_text()) for i in range(n)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "kind", "region", "url", "province"])
        for unit in meta[:n]:
            w.writerow([unit["name"], unit["kind"], unit["region"], unit["url"], unit["province"]])
    return path


# --------------------------------------------------------------------------------------------
# nginx


def ensure_nginx(install: bool = True) -> str:
    """The path of nginx; installs Debian's package (apt-get) when missing and we are root."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if found:
        return found
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        print("nginx not found: installing it with apt-get (Debian package 'nginx') ...", file=sys.stderr)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "-q", "nginx"]
        if subprocess.run(cmd, env=env, timeout=600, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, timeout=600, check=False)
            subprocess.run(cmd, env=env, timeout=600, check=False)
        found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
        if found:
            return found
    raise SystemExit("nginx is needed to serve the farm: install it with `apt-get install -y nginx` "
                     "(as root; `apt-get update` first if the package is not found)")


def write_nginx_conf(farm: Farm, n: int) -> Path:
    """One server block listening on 127.0.X.Y:PORT for each of the first `n` sites, root by address."""
    ndir = farm.root / "nginx"
    for sub in ("tmp/client", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (ndir / sub).mkdir(parents=True, exist_ok=True)
    mime = "/etc/nginx/mime.types"
    types = (f"include {mime};" if Path(mime).exists() else
             "types { text/html html; application/pdf pdf; text/plain txt; text/css css; }")
    listens = "\n".join(f"        listen {site_address(i)}:{farm.port} backlog=511;" for i in range(n))
    gz = "gzip_static on;\n    gzip_vary on;" if farm.gzip else "gzip off;"
    # one descriptor per listening address, two per connection, plus the file cache: stay under the hard
    # limit (a cache larger than the limit ends in "Too many open files" and 404s)
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nofile = min(65536, hard if hard != resource.RLIM_INFINITY else 65536)
    if nofile < n + 2000 + 4096:
        print(f"warning: the open-file limit ({nofile}) is low for {n} sites; raise `ulimit -n`", file=sys.stderr)
    conf = f"""# written by benchmarks/farm.py: {n} sites on 127.0.X.Y:{farm.port}
worker_processes 1;
worker_rlimit_nofile {nofile};
pid {farm.pid_file};
error_log {ndir / "error.log"} warn;
events {{
    worker_connections 16384;
    multi_accept on;
}}
http {{
    {types}
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 10000;
    etag on;
    if_modified_since exact;
    open_file_cache max=2000 inactive=20s;
    open_file_cache_valid 60s;
    {gz}
    client_body_temp_path {ndir / "tmp/client"};
    proxy_temp_path {ndir / "tmp/proxy"};
    fastcgi_temp_path {ndir / "tmp/fastcgi"};
    uwsgi_temp_path {ndir / "tmp/uwsgi"};
    scgi_temp_path {ndir / "tmp/scgi"};
    server {{
{listens}
        root {farm.root / "sites"}/$server_addr;
        index index.html;
        location ~ /\\. {{ return 404; }}
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""
    farm.conf.write_text(conf)
    return farm.conf


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _ours(pid: int, conf: Path) -> bool:
    """Whether `pid` is an nginx master started with this farm's config."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    return b"nginx" in cmd and str(conf).encode() in cmd


def _port_answers(address: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((address, port), timeout=0.5):
        return True
    return False


class Nginx:
    """nginx for one farm: `start()` runs it (a daemon with its pid file in the farm, or a foreground child
    of this process), `stop()` ends that one process by its pid, waits (bounded) for it to go."""

    def __init__(self, farm: Farm, n: int | None = None) -> None:
        self.farm = farm
        self.n = n or farm.sites
        self.child: subprocess.Popen[bytes] | None = None

    def _cmd(self, binary: str, *extra: str) -> list[str]:
        return [binary, "-c", str(self.farm.conf), "-p", str(self.farm.root / "nginx"),
                "-e", str(self.farm.root / "nginx" / "error.log"), *extra]

    def pid(self) -> int | None:
        if self.child is not None and self.child.poll() is None:
            return self.child.pid
        try:
            pid = int(self.farm.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_alive(pid) and _ours(pid, self.farm.conf) else None

    def start(self, foreground: bool = False, timeout: float = 30.0) -> None:
        binary = ensure_nginx()
        self.stop()  # a stale nginx of this farm, from an interrupted run
        write_nginx_conf(self.farm, self.n)
        for i in (0, self.n - 1):
            if _port_answers(site_address(i), self.farm.port):
                raise SystemExit(f"something already listens on {site_address(i)}:{self.farm.port}; "
                                 f"stop it or choose another --port")
        test = subprocess.run(self._cmd(binary, "-t", "-q"), capture_output=True, timeout=60, check=False)
        if test.returncode != 0:
            raise SystemExit(f"nginx refused the config {self.farm.conf}:\n{test.stderr.decode(errors='replace')}")
        if foreground:
            self.child = subprocess.Popen(self._cmd(binary, "-g", "daemon off;"), stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        else:
            subprocess.run(self._cmd(binary), timeout=60, check=True)
        deadline = time.monotonic() + timeout
        probes = sorted({0, self.n // 2, self.n - 1})
        while time.monotonic() < deadline:
            if self.child is not None and self.child.poll() is not None:
                raise SystemExit(f"nginx exited with {self.child.returncode}; see {self.farm.root}/nginx/error.log")
            if all(_port_answers(site_address(i), self.farm.port) for i in probes):
                break
            time.sleep(0.1)
        else:
            self.stop()
            raise SystemExit(f"nginx did not answer on {site_address(0)}:{self.farm.port} within {timeout:.0f} s")
        self._check_served()

    def _check_served(self) -> None:
        import urllib.request

        url = site_url(0, self.farm.port)
        with urllib.request.urlopen(url, timeout=5) as resp:  # a 127.x address we just started
            if resp.status != 200 or not resp.headers.get("ETag") or not resp.headers.get("Last-Modified"):
                raise SystemExit(f"the farm's home page {url} answered {resp.status} without ETag/Last-Modified")

    def stop(self, timeout: float = 15.0) -> None:
        pid = self.pid()
        if pid is None:
            self.child = None
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # fast shutdown of the master, which ends its workers
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.child is not None and self.child.pid == pid:
                if self.child.poll() is not None:
                    break
            elif not _pid_alive(pid):
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.child.wait(timeout=5)
        self.child = None
        with contextlib.suppress(OSError):
            self.farm.pid_file.unlink()


# --------------------------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the farm (keeps sites already written with the same parameters)")
    b.add_argument("--sites", type=int, default=100)
    b.add_argument("--pages", type=int, default=30, help="pages per site, PDFs included (default 30)")
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--port", type=int, default=DEFAULT_PORT)
    b.add_argument("--no-gzip", action="store_true", help="no pre-compressed .gz copies (gzip_static off)")
    b.add_argument("--force", action="store_true", help="rewrite every site")
    for name in ("build", "start", "stop", "status"):
        p = b if name == "build" else sub.add_parser(name)
        p.add_argument("--out", type=Path, default=DEFAULT_DIR, help=f"farm folder (default {DEFAULT_DIR})")
    args = ap.parse_args(argv)
    if args.cmd == "build":
        farm = build_farm(args.out, args.sites, args.pages, args.seed, args.port, not args.no_gzip, args.force)
        print(f"{farm.sites} sites in {farm.root}; units: {farm.units_csv}; nginx config: {farm.conf}")
        return 0
    farm = load_farm(args.out)
    ng = Nginx(farm)
    if args.cmd == "start":
        ng.start()
        print(f"nginx serves {farm.sites} sites, {site_url(0, farm.port)} .. {site_url(farm.sites - 1, farm.port)} "
              f"(pid {ng.pid()}); stop with: {sys.argv[0]} stop --out {farm.root}")
    elif args.cmd == "stop":
        ng.stop()
        print("nginx stopped")
    else:
        pid = ng.pid()
        print(f"nginx {'runs, pid ' + str(pid) if pid else 'is not running'}; {farm.sites} sites x {farm.pages} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
