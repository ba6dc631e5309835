"""What the crawl of one site fetches, and how what it fetched reaches the report.

robots.txt, the page budget, a calendar trap, a slow page, legacy encodings and a text PDF; each
site is served by the farm and checked with the real `patuh check`.
"""

from __future__ import annotations

import io
import time

import pytest

from tests.e2e.patuhcli import Patuh, assert_reachable_report, evidence_urls, findings_by_id
from tests.e2e.sitefarm import Reply, SiteFarm, calendar_trap, html, html_page, make_pdf, robots

REQUIREMENTS_TABLE = """
<h1>Standar Pelayanan {service}</h1>
<table>
  <tr><th>Komponen</th><th>Uraian</th></tr>
  <tr><td>Persyaratan</td><td>KTP asli, Kartu Keluarga</td></tr>
</table>
"""


def standard_page(service: str = "Izin Usaha Mikro") -> Reply:
    """A page whose requirements are unambiguously present."""
    return html(REQUIREMENTS_TABLE.format(service=service), "Standar Pelayanan")


# -- robots.txt -----------------------------------------------------------------------------------------
def test_robots_disallowed_section_is_never_requested(farm: SiteFarm, patuh: Patuh) -> None:
    site = farm.site("robots-internal", {
        "/robots.txt": robots("/internal/"),
        "/": html("<h1>Puskesmas Uji</h1><ul>"
                  "<li><a href='/internal/standar-pelayanan/'>Standar Pelayanan</a></li>"
                  "<li><a href='/internal/standar.pdf'>Unduh dokumen (PDF)</a></li>"
                  "<li><a href='/profil/'>Profil</a></li></ul>"),
        "/internal/standar-pelayanan/": standard_page(),
        "/internal/standar.pdf": standard_page(),
        "/profil/": html("<h1>Profil</h1><p>Puskesmas ini berdiri sejak 1985.</p>", "Profil"),
    })
    run, report = patuh.check(site.base_url)
    assert site.requested("/robots.txt"), "robots.txt was never asked for"
    assert site.requested("/internal/") == [], f"disallowed paths requested: {site.requested('/internal/')}"
    assert "/profil/" in site.requested(), "the allowed page was not crawled"
    assert_reachable_report(report)
    assert not [u for u in evidence_urls(report) if "/internal/" in u]
    # the only requirements are behind the disallowed URL: they count as not present
    assert findings_by_id(report)["requirements"]["status"] == "absent"


# -- page budget ----------------------------------------------------------------------------------------
def test_page_budget_caps_the_crawl(farm: SiteFarm, patuh: Patuh) -> None:
    n = 300
    links = "".join(f"<li><a href='/layanan/{i}/'>Layanan {i}</a></li>" for i in range(1, n + 1))
    routes = {"/": html(f"<h1>Dinas Sosial</h1><ul>{links}</ul>")}
    for i in range(1, n + 1):
        routes[f"/layanan/{i}/"] = html(f"<h1>Layanan {i}</h1><p>Keterangan layanan nomor {i}.</p>"
                                        f"<a href='/layanan/{(i % n) + 1}/'>Berikutnya</a>", f"Layanan {i}")
    site = farm.site("budget", routes)
    run, report = patuh.check(site.base_url, "--max-pages", "20")
    pages = site.pages_requested()
    assert len(pages) <= 20, f"{len(pages)} pages requested with --max-pages 20"
    assert len(pages) >= 10, f"the crawl stopped early: {pages}"
    assert report["sweep"]["pages_fetched"] <= 20
    assert report["sweep"]["pages_fetched"] == len(pages)
    assert_reachable_report(report)


# -- calendar trap --------------------------------------------------------------------------------------
def test_calendar_trap_ends_and_the_standard_is_still_found(farm: SiteFarm, patuh: Patuh) -> None:
    site = farm.site("trap", {
        "/": html("<h1>Dinas Kesehatan</h1><ul><li><a href='/agenda/?month=1'>Agenda kegiatan</a></li>"
                  "<li><a href='/tentang/'>Tentang kami</a></li></ul>"),
        "/agenda/": calendar_trap("/agenda/"),
        "/tentang/": html("<h1>Tentang kami</h1><p>Informasi dinas.</p>"
                          "<a href='/tentang/standar-pelayanan/'>Standar pelayanan</a>", "Tentang"),
        "/tentang/standar-pelayanan/": standard_page("Surat Keterangan Sehat"),
    })
    started = time.monotonic()
    run, report = patuh.check(site.base_url, timeout=120)
    elapsed = time.monotonic() - started
    assert elapsed < 120
    assert "/tentang/standar-pelayanan/" in site.requested(), site.log
    agenda = site.requested("/agenda/")
    assert len(agenda) <= 30, f"the calendar trap took {len(agenda)} requests"
    assert_reachable_report(report)
    requirements = findings_by_id(report)["requirements"]
    assert requirements["status"] == "present", requirements
    assert site.url("/tentang/standar-pelayanan/") in [e["url"] for e in requirements["evidence"]]


# -- a slow page ----------------------------------------------------------------------------------------
def test_slow_page_is_fetched_and_counted(farm: SiteFarm, patuh: Patuh) -> None:
    slow = standard_page("Akta Kelahiran")
    slow.delay = 3.0
    site = farm.site("slow", {
        "/": html("<h1>Dukcapil</h1><a href='/standar-pelayanan/'>Standar Pelayanan</a>"),
        "/standar-pelayanan/": slow,
    })
    run, report = patuh.check(site.base_url, timeout=90)
    assert "/standar-pelayanan/" in site.requested()
    assert report["sweep"]["pages_fetched"] == 2
    assert report["sweep"]["errors"] == 0
    requirements = findings_by_id(report)["requirements"]
    assert requirements["status"] == "present", requirements
    assert requirements["evidence"][0]["url"] == site.url("/standar-pelayanan/")


# -- encodings ------------------------------------------------------------------------------------------
ROW = "Fotokopi “KTP-el” dan denah lokasi 100 m²"
CP1252_BODY = (f"<h1>Standar Pelayanan Izin Mendirikan Bangunan</h1><table>"
               f"<tr><th>Komponen</th><th>Uraian</th></tr><tr><td>Persyaratan</td><td>{ROW}</td></tr></table>")
ENCODINGS = {
    "charset-in-http-header": ("text/html; charset=windows-1252", ""),
    "meta-charset": ("text/html", "<meta charset='windows-1252'>"),
    "meta-http-equiv": ("text/html", "<meta http-equiv='Content-Type' content='text/html; charset=windows-1252'>"),
}


@pytest.mark.parametrize("case", list(ENCODINGS))
def test_windows_1252_page_is_decoded(case: str, farm: SiteFarm, patuh: Patuh) -> None:
    content_type, head = ENCODINGS[case]
    body = html_page(CP1252_BODY, "Standar Pelayanan IMB", head=head).encode("cp1252")
    assert b"\x93KTP-el\x94" in body and b"m\xb2" in body  # really legacy bytes, not UTF-8
    site = farm.site(case, {
        "/": html("<h1>DPMPTSP</h1><a href='/standar-pelayanan/imb/'>Standar Pelayanan IMB</a>"),
        "/standar-pelayanan/imb/": Reply(body=body, content_type=content_type),
    })
    run, report = patuh.check(site.base_url)
    requirements = findings_by_id(report)["requirements"]
    assert requirements["status"] == "present", requirements
    snippets = [e["snippet"] for e in requirements["evidence"] if e["url"] == site.url("/standar-pelayanan/imb/")]
    assert snippets, requirements
    assert "“KTP-el”" in snippets[0], snippets[0]
    assert "100 m²" in snippets[0], snippets[0]
    assert "\ufffd" not in snippets[0]


# -- a text PDF -----------------------------------------------------------------------------------------
PDF_LINES = [
    ["STANDAR PELAYANAN PUSKESMAS", "Pelayanan Surat Keterangan Sehat"],
    ["PELAYANAN SURAT KETERANGAN SEHAT", "Persyaratan : KTP asli dan Kartu Keluarga",
     "Persyaratan tambahan : KTP asli dan Kartu Keluarga orang tua bagi anak"],
]


def test_make_pdf_has_a_text_layer() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(make_pdf(PDF_LINES, title="Standar Pelayanan")))
    assert len(reader.pages) == 2
    assert "Persyaratan : KTP asli dan Kartu Keluarga" in (reader.pages[1].extract_text() or "")


def test_text_pdf_is_evidence_with_its_page(farm: SiteFarm, patuh: Patuh) -> None:
    pdf = make_pdf(PDF_LINES, title="Standar Pelayanan Puskesmas")
    site = farm.site("pdf", {
        "/": html("<h1>Puskesmas Uji</h1><p>Selamat datang.</p>"
                  "<a href='/dokumen/standar-pelayanan.pdf'>Unduh Standar Pelayanan (PDF)</a>"),
        "/dokumen/standar-pelayanan.pdf": Reply(body=pdf, content_type="application/pdf"),
    })
    run, report = patuh.check(site.base_url)
    assert "/dokumen/standar-pelayanan.pdf" in site.requested()
    assert report["sweep"]["documents"].get("pdf") == 1, report["sweep"]
    assert_reachable_report(report)
    requirements = findings_by_id(report)["requirements"]
    assert requirements["status"] == "present", requirements
    pdf_evidence = [e for e in requirements["evidence"] if e["kind"] == "pdf"]
    assert pdf_evidence, requirements
    assert pdf_evidence[0]["url"] == site.url("/dokumen/standar-pelayanan.pdf")
    assert "halaman" in pdf_evidence[0]["locator"], pdf_evidence[0]
    assert "halaman 2" in pdf_evidence[0]["locator"], pdf_evidence[0]
    assert pdf_evidence[0]["sha256"] == site.sha256_of(site.url("/dokumen/standar-pelayanan.pdf"))
