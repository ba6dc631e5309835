"""What the crawl of one site fetches, and how what it fetched reaches the report.

robots.txt, the page budget, a calendar trap, a slow page, legacy encodings and a text PDF; each
site is served by the farm and checked with the real `patuh check`.
"""

from __future__ import annotations

import gzip
import io
import json
import time

import pytest

from tests.e2e.patuhcli import Patuh, assert_reachable_report, evidence_urls, findings_by_id
from tests.e2e.sitefarm import (
    Hit,
    Reply,
    Route,
    Site,
    SiteFarm,
    calendar_trap,
    html,
    html_page,
    make_pdf,
    redirect,
    robots,
)

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
    _, report = patuh.check(site.base_url)
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
    _, report = patuh.check(site.base_url, "--max-pages", "20")
    pages = site.distinct_pages()
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
    _, report = patuh.check(site.base_url, timeout=120)
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
    _, report = patuh.check(site.base_url, timeout=90)
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
    _, report = patuh.check(site.base_url)
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
    _, report = patuh.check(site.base_url)
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


# -- https ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ["https", "http-redirects-to-https"])
def test_https_site_is_reported_as_https(entry: str, farm: SiteFarm, patuh: Patuh) -> None:
    secure = farm.site(f"tls-{entry}", {
        "/": html("<h1>Dinas Pendidikan</h1><a href='/standar-pelayanan/'>Standar Pelayanan</a>"),
        "/standar-pelayanan/": standard_page("Legalisir Ijazah"),
    }, tls=True)
    url = secure.base_url
    if entry == "http-redirects-to-https":
        url = farm.site("plain-entry", {"/": redirect(secure.base_url, 301)}).base_url
    _, report = patuh.check(url)
    assert_reachable_report(report)
    assert report["https"] is True
    assert "/standar-pelayanan/" in secure.requested()
    requirements = findings_by_id(report)["requirements"]
    assert requirements["status"] == "present", requirements
    assert all(secure.owns(e["url"]) for e in requirements["evidence"]), requirements["evidence"]


# -- the site's own host only, within the depth limit --------------------------------------------------
def test_links_to_other_hosts_are_not_followed(farm: SiteFarm, patuh: Patuh) -> None:
    other = farm.site("other-agency", {"/standar-pelayanan/": standard_page()})
    site = farm.site("own-host", {
        "/": html(f"<h1>Puskesmas Uji</h1><a href='{other.url('/standar-pelayanan/')}'>Standar Pelayanan</a>"
                  f"<a href='/profil/'>Profil</a>"),
        "/profil/": html("<h1>Profil</h1><p>Puskesmas ini berdiri sejak 1985.</p>", "Profil"),
    })
    _, report = patuh.check(site.base_url)
    assert other.requested() == [], f"another host was crawled: {other.log}"
    assert "/profil/" in site.requested()
    assert all(site.owns(u) for u in evidence_urls(report))
    assert findings_by_id(report)["requirements"]["status"] == "absent"


def test_depth_limit(farm: SiteFarm, patuh: Patuh) -> None:
    routes = {"/": html("<h1>Dinas</h1><a href='/d1/'>Layanan 1</a>")}
    for i in range(1, 10):
        routes[f"/d{i}/"] = html(f"<h1>Layanan {i}</h1><a href='/d{i + 1}/'>Layanan {i + 1}</a>", f"Layanan {i}")
    site = farm.site("depth", routes)
    _, report = patuh.check(site.base_url, "-s", "PATUH_MAX_DEPTH=3")
    assert site.distinct_pages() == {"/", "/d1/", "/d2/", "/d3/"}
    assert report["sweep"]["pages_fetched"] == 4


# -- broken and hostile documents cost one page, not the crawl -----------------------------------------
def test_gzip_bomb_and_broken_pdf_do_not_stop_the_crawl(farm: SiteFarm, patuh: Patuh) -> None:
    bomb = gzip.compress(b"<html><body>" + b" " * (40 * 1024 * 1024) + b"</body></html>", compresslevel=9)
    site = farm.site("hostile", {
        "/": html("<h1>Dinas Sosial</h1><a href='/unduhan/layanan.html'>Layanan</a>"
                  "<a href='/unduhan/rusak.pdf'>Dokumen layanan (PDF)</a>"
                  "<a href='/standar-pelayanan/'>Standar Pelayanan</a>"),
        "/unduhan/layanan.html": Reply(body=bomb, headers={"Content-Encoding": "gzip"}),
        "/unduhan/rusak.pdf": Reply(body=b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer garbage",
                                    content_type="application/pdf"),
        "/standar-pelayanan/": standard_page("Rekomendasi PBI"),
    })
    _, report = patuh.check(site.base_url, timeout=120)
    assert {"/unduhan/layanan.html", "/unduhan/rusak.pdf", "/standar-pelayanan/"} <= set(site.requested())
    assert_reachable_report(report)
    assert findings_by_id(report)["requirements"]["status"] == "present"
    assert site.url("/unduhan/layanan.html") not in evidence_urls(report)


# -- bugs found by these tests, fixed in spiders/site.py -------------------------------------------------
def redirect_site(farm: SiteFarm, name: str) -> Site:
    """A site whose standard is linked twice: directly and through an old URL that redirects to it."""
    return farm.site(name, {
        "/": html("<h1>Puskesmas Uji</h1><ul><li><a href='/standar-lama/'>Standar Pelayanan (lama)</a></li>"
                  "<li><a href='/standar-pelayanan/'>Standar Pelayanan</a></li>"
                  "<li><a href='/profil/'>Profil</a></li></ul>"),
        "/standar-lama/": redirect("/standar-pelayanan/", 301),
        "/standar-pelayanan/": standard_page(),
        "/profil/": html("<h1>Profil</h1><p>Puskesmas ini berdiri sejak 1985.</p>", "Profil"),
    })


def test_page_reached_directly_and_by_redirect_is_one_document(farm: SiteFarm, patuh: Patuh) -> None:
    site = redirect_site(farm, "redirect-doc")
    _, report = patuh.check(site.base_url)
    assert findings_by_id(report)["requirements"]["status"] == "present"
    # three distinct documents (/, /profil/, /standar-pelayanan/), whichever way they were reached
    assert report["sweep"]["documents"] == {"html": 3}, report["sweep"]
    recheck = patuh.run("recheck")
    assert recheck.returncode == 0, recheck.explain()
    after = json.loads(patuh.run("report", "--format", "json").stdout)[0]
    assert after["sweep"]["documents"] == report["sweep"]["documents"]
    assert [(f["indicator"], f["status"], f["summary"]) for f in after["findings"]] == \
        [(f["indicator"], f["status"], f["summary"]) for f in report["findings"]]


def test_page_reached_directly_and_by_redirect_is_counted_once(farm: SiteFarm, patuh: Patuh) -> None:
    site = redirect_site(farm, "redirect-count")
    _, report = patuh.check(site.base_url)
    # as in CONTRACT.md's example (41 pages = 38 html + 2 pdf + 1 image): pages fetched are documents
    assert report["sweep"]["pages_fetched"] == sum(report["sweep"]["documents"].values()) == 3, report["sweep"]


def test_page_budget_bounds_requests_when_pages_fail(farm: SiteFarm, patuh: Patuh) -> None:
    links = "".join(f"<li><a href='/layanan/{i}/'>Layanan {i}</a></li>" for i in range(1, 81))
    site = farm.site("budget-failing", {"/": html(f"<h1>Dinas</h1><ul>{links}</ul>")},
                     fallback=lambda hit: html("<h1>Galat server</h1>", status=500))
    _, report = patuh.check(site.base_url, "--max-pages", "20", timeout=120)
    assert report["reachable"] is True
    # a retry per failed page is fair; hundreds of requests against a budget of 20 are not
    assert len(site.pages_requested()) <= 2 * 20, f"{len(site.pages_requested())} requests with --max-pages 20"


PHP_PAGES = ["profil", "berita", "galeri", "agenda", "pengumuman", "artikel", "video", "unduhan", "tentang",
             "standar-pelayanan"]


def test_query_routed_site_keeps_its_best_links(farm: SiteFarm, patuh: Patuh) -> None:
    nav = "".join(f"<a href='/index.php?page={p}'>{p.replace('-', ' ').title()}</a> " for p in PHP_PAGES)

    def page(hit: Hit) -> Reply:
        name = hit.query.get("page", ["beranda"])[0]
        if name == "standar-pelayanan":
            return standard_page("Izin Praktik Bidan")
        return html(f"<nav>{nav}</nav><h1>{name.title()}</h1><p>Halaman {name}.</p>", name)

    site = farm.site("php-cms", {"/": html(f"<nav>{nav}</nav><h1>Beranda</h1>"), "/index.php": page})
    _, report = patuh.check(site.base_url)
    assert "/index.php?page=standar-pelayanan" in site.requested(), site.log
    assert findings_by_id(report)["requirements"]["status"] == "present"


# -- politeness -----------------------------------------------------------------------------------------
def test_at_most_a_few_requests_at_once_per_site(farm: SiteFarm, patuh: Patuh) -> None:
    links = "".join(f"<li><a href='/layanan/{i}/'>Layanan {i}</a></li>" for i in range(1, 25))
    routes: dict[str, Route] = {"/": html(f"<h1>Dinas</h1><ul>{links}</ul>")}
    for i in range(1, 25):
        routes[f"/layanan/{i}/"] = Reply(body=html_page(f"<h1>Layanan {i}</h1>"), delay=0.3)
    site = farm.site("polite", routes)
    _, report = patuh.check(site.base_url, timeout=90)
    assert report["sweep"]["pages_fetched"] == 25
    assert 1 <= site.max_active <= 4, f"{site.max_active} requests at once on one site"


# -- default ports --------------------------------------------------------------------------------------
def test_links_with_an_explicit_default_port_are_the_same_site(farm: SiteFarm, patuh: Patuh) -> None:
    routes: dict[str, Route] = {"/standar-pelayanan/": standard_page("Izin Apotek")}
    try:
        site = farm.site("port-80", routes, port=80)
    except OSError as exc:  # binding port 80 needs privileges this machine may not give
        pytest.skip(f"cannot serve on port 80: {exc}")
    assert site.base_url == f"http://{site.host}/"
    routes["/"] = html(f"<h1>Dinas Kesehatan</h1><a href='http://{site.host}:80/standar-pelayanan/'>"
                       f"Standar Pelayanan</a>")
    site.routes.update(routes)
    _, report = patuh.check(site.base_url)
    assert "/standar-pelayanan/" in site.requested(), site.log
    assert findings_by_id(report)["requirements"]["status"] == "present"
