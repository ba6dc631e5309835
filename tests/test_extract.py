"""HTML and PDF to Document: regions, headings, tables, links, hostile input, round trip."""

from __future__ import annotations

import pytest

from checks.document import Document
from checks.extract_html import MAX_CHARS, extract_html
from checks.extract_pdf import extract_pdf
from checks.text import context, fields
from tests.pdfgen import make_pdf

PAGE = """<!doctype html><html lang="id"><head><title>Standar Pelayanan KTP – Dukcapil</title>
<script>var x = "<p>not text</p>";</script></head><body>
<header class="site-header"><p>Dinas Dukcapil</p><nav><ul><li><a href="/layanan/">Layanan</a></li></ul></nav></header>
<main><h1>Standar Pelayanan KTP-el</h1>
<h2>Persyaratan</h2><ul><li>Fotokopi KK</li><li>Surat pengantar</li></ul>
<table><tr><th>Komponen</th><th>Uraian</th></tr><tr><td>Biaya</td><td>Gratis</td></tr></table>
<details><summary>Alur</summary><ol><li>Ambil antrean</li><li>Rekam biometrik</li></ol></details>
<p><a href="https://www.lapor.go.id"><img src="/lapor.png" alt="SP4N LAPOR"></a></p></main>
<footer id="colophon"><h2>Kontak</h2><p>Jl. Merdeka No. 1<br>Telp. (0561) 123456</p></footer>
</body></html>"""


def test_regions_headings_tables_links() -> None:
    doc = extract_html("http://unit.example/sp/ktp/", PAGE)
    assert doc.title.startswith("Standar Pelayanan KTP")
    assert doc.lang == "id"
    by_text = {b.text: b for b in doc.blocks}
    assert by_text["Fotokopi KK"].headings == ("Standar Pelayanan KTP-el", "Persyaratan")
    assert by_text["Fotokopi KK"].region == "main"
    assert by_text["Layanan"].region == "nav"
    assert by_text["Jl. Merdeka No. 1\nTelp. (0561) 123456"].region == "footer"
    assert by_text["Jl. Merdeka No. 1\nTelp. (0561) 123456"].headings == ("Kontak",)  # own stack per region
    assert doc.tables[0].rows == [["Komponen", "Uraian"], ["Biaya", "Gratis"]]
    assert "not text" not in doc.text  # scripts are never text
    lapor = [link for link in doc.links if "lapor.go.id" in link.url]
    assert lapor and lapor[0].text == "SP4N LAPOR"  # image alt stands in for anchor text
    assert "http://unit.example/layanan/" in [link.url for link in doc.links]


def test_fields_from_heading_table_and_accordion() -> None:
    doc = extract_html("http://unit.example/sp/ktp/", PAGE)
    kinds = {f.kind: f for f in fields(doc)}
    assert kinds["requirements"].items == ["Fotokopi KK", "Surat pengantar"]
    assert kinds["fees"].value_text == "Gratis"
    assert kinds["procedure"].items == ["Ambil antrean", "Rekam biometrik"]


def test_layout_tables_are_containers() -> None:
    html = ("<table><tr><td><table><tr><td>Menu</td></tr></table></td><td><h2>Jadwal</h2>"
            "<p>Senin - Kamis 07.30 - 14.00</p></td></tr></table>")
    doc = extract_html("http://u.example/", html)
    assert not any(t.rows == [["Menu"]] and len(t.rows[0]) > 1 for t in doc.tables)
    block = next(b for b in doc.blocks if b.text.startswith("Senin"))
    assert block.headings[-1] == "Jadwal"


@pytest.mark.parametrize("html", ["", "   ", "<html", "\x00\x01\x02", "<p>" * 50_000, "<div>" + "x" * (MAX_CHARS + 10)])
def test_hostile_or_broken_html_never_raises(html: str) -> None:
    doc = extract_html("http://u.example/", html)
    assert isinstance(doc, Document)
    assert len(doc.text) <= MAX_CHARS


def test_news_context_from_path_and_date() -> None:
    news = extract_html("http://u.example/berita/rapat-skm/", "<h1>Rapat</h1><p>12 Maret 2024</p><p>Isi</p>")
    assert context(news).news
    dated = extract_html("http://u.example/?p=12", "<h1>Bupati Meninjau</h1><p>Berita | 3 Juni 2024</p><p>x</p>")
    assert context(dated).news
    service = extract_html("http://u.example/sp/", "<h1>Standar Pelayanan</h1><p>1 Juni 2024</p><p>Persyaratan</p>")
    assert not context(service).news
    recruit = extract_html("http://u.example/p/", "<h1>Penerimaan Tenaga Kontrak 2024</h1><p>Persyaratan: KTP</p>")
    assert context(recruit).excluded


def test_document_json_round_trip() -> None:
    doc = extract_html("http://unit.example/sp/ktp/", PAGE)
    again = Document.from_json(doc.to_json())
    assert again == doc


def test_pdf_text_by_page() -> None:
    body = make_pdf([["STANDAR PELAYANAN", "Persyaratan : KTP asli dan Kartu Keluarga"], ["Biaya : Gratis"]])
    doc = extract_pdf("http://u.example/sp.pdf", body)
    assert doc.kind == "pdf" and doc.meta["pages"] == 2
    fees = next(b for b in doc.blocks if b.text.startswith("Biaya"))
    assert fees.locator == "halaman 2"
    assert {f.kind for f in fields(doc)} >= {"requirements", "fees"}


@pytest.mark.parametrize("body", [b"", b"%PDF-1.4 garbage", b"%PDF-1.7\n1 0 obj << /Type /Pages /Kids [9 0 R] >>"])
def test_malformed_pdf_gives_an_empty_document(body: bytes) -> None:
    doc = extract_pdf("http://u.example/x.pdf", body)
    assert doc.kind == "pdf" and not doc.blocks


def test_worker_reading_gives_the_frontier_the_documents_links() -> None:
    """One parse per page: the links of a read page come from its document (frames and a meta
    refresh included), and a page that needs Chromium is only outlined, not read."""
    from crawler.workers import read_job

    html = (b'<html><head><title>Dinas</title><meta http-equiv="refresh" content="30; url=/baru">'
            b'</head><body><nav><a href="/layanan">Layanan</a></nav><main><h1>Profil</h1>'
            b'<p>Teks yang cukup panjang tentang dinas ini.</p><a href="http://u.example/sp">Standar Pelayanan</a>'
            b'<a href="mailto:a@u.example">surel</a><img src="/alur.png" alt="Alur pelayanan">'
            b'<iframe src="/peta"></iframe></main></body></html>')
    r = read_job("http://u.example/profil", "html", html, "text/html", "0" * 64, "2026-01-01T00:00:00Z")
    assert r.document and r.hits is not None and r.error is None
    assert ("http://u.example/layanan", "Layanan", "nav") in r.links
    assert ("http://u.example/sp", "Standar Pelayanan", "main") in r.links
    assert {"http://u.example/peta", "http://u.example/baru"} <= {u for u, _, _ in r.links}
    assert not any(u.startswith("mailto:") for u, _, _ in r.links)
    assert r.images == [("http://u.example/alur.png", "Alur pelayanan", "main")] and r.title == "Profil"
    spa = b'<html><body><div id="app"></div><script src="/a.js"></script><script src="/b.js"></script></body></html>'
    r = read_job("http://u.example/", "html", spa, "text/html", "0" * 64, "2026-01-01T00:00:00Z", render_check=True)
    assert r.render_reason and r.document is None and not r.hits
    broken = read_job("http://u.example/x.pdf", "pdf", b"%PDF-1.4 broken", "application/pdf", "0" * 64,
                      "2026-01-01T00:00:00Z", links=False)
    # a broken body costs its own page only: an empty document, no evidence, nothing raised
    assert broken.error is None and broken.document and '"blocks":[]' in broken.document and not broken.hits


@pytest.mark.parametrize("base,href", [
    ("http://a.example/x/y", "https://b.example/p?q#f"), ("http://a.example/x/y", "http://b.example/./a/../b"),
    ("https://a.example/x", "http://b.example/c"), ("http://a.example/x", "HTTP://B.example/C"),
    ("http://a.example/x", "http://b.example"), ("http://a.example/x", "http://b.example/c?"),
    ("http://a.example/x/", "../z"), ("http://a.example/x", "//c.example/d"), ("http://a.example/x", "mailto:x@y"),
    ("http://a.example/x/", "a?u=http://z.example"), ("http://a.example/x", "http:///p"),
    ("HTTP://a.example/x", "http://b.example/c"), ("http://a.example/x", "https://[::1]:8080/a"),
])
def test_remembered_join_is_urljoin(base: str, href: str) -> None:
    from urllib.parse import urljoin

    from checks.extract_html import join

    assert join(base, href) == urljoin(base, href)


@pytest.mark.parametrize("text", ["a b", " a  b ", "a\tb", "a\n\n b", "a\u00a0b", "a\u200bb", "x\u2028y", " lead",
                                  "a\r\nb", "a \n b", "a\u3000b", "a\x0bb", "", "  "])
def test_clean_fast_path_changes_nothing(text: str) -> None:
    import re

    from checks.extract_html import clean

    collapsed = re.sub(r"\s*\n\s*", "\n", re.sub(r"[ \t\r\f\v\u00a0\u200b]+", " ", text)).strip()
    assert clean(text) == collapsed


def test_document_json_survives_a_lone_surrogate() -> None:
    from checks.document import Block, Document

    doc = Document(url="http://u.example/a.pdf", kind="pdf", blocks=[Block(text="Biaya \ud800 gratis", tag="pdf")])
    again = Document.from_json(doc.to_json())
    assert again.blocks[0].text == "Biaya \ud800 gratis" and again.kind == "pdf"


@pytest.mark.parametrize("body,expected", [
    # no root, no plea, no placeholder, little text and many scripts: decided after reading the text
    (b"<html><body><p>Halo</p><script src='/a.js'></script><script src='/b.js'></script></body></html>", True),
    # plenty of text: read as it is
    (b"<html><body>" + b"<p>Persyaratan pelayanan dan prosedur yang jelas bagi warga.</p>" * 20
     + b"<script src='/a.js'></script><script src='/b.js'></script></body></html>", False),
    # an empty app root is looked at before reading
    (b"<html><body><div id='app'></div><script>fetch('/api')</script></body></html>", True),
    (b"<html><body><p>Tanpa skrip sama sekali.</p></body></html>", False),
])
def test_render_decision_is_render_reasons_own(body: bytes, expected: bool) -> None:
    from crawler.workers import read_job
    from spiders.render import render_reason

    assert bool(render_reason(body.decode())) is expected
    r = read_job("http://u.example/", "html", body, "text/html", "0" * 64, "2026-01-01T00:00:00Z", render_check=True)
    assert bool(r.render_reason) is expected
    assert (r.document is None) is expected  # a page to render is read later, from Chromium's DOM


def test_reading_links_only_reads_no_document_and_a_broken_document_keeps_its_links(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An unchanged page is read for its links only (no extraction, no rules, no archive); a page
    whose extraction fails still gives the frontier its links."""
    from crawler import workers

    html = b'<html><body><main><a href="/layanan">Layanan</a></main></body></html>'
    calls: list[str] = []

    def broken(url: str, text: str, kind: str = "html") -> None:
        calls.append(url)
        raise ValueError("rusak")

    monkeypatch.setattr(workers, "extract_html", broken)
    only_links = workers.read_job("http://u.example/", "html", html, "text/html", "0" * 64, "t", document=False)
    assert not calls and only_links.document is None and not only_links.hits and only_links.error is None
    assert only_links.links == [("http://u.example/layanan", "Layanan", "main")]
    failed = workers.read_job("http://u.example/", "html", html, "text/html", "0" * 64, "t")
    assert calls == ["http://u.example/"] and failed.document is None and failed.error
    assert failed.links == [("http://u.example/layanan", "Layanan", "main")]


@pytest.mark.parametrize("tail", ["", "<p>teks biasa</p>", "<div id='root'></div>", '<div id="app">', "<div id=app>",
                                  "<noscript>x</noscript>", "<p>Memuat data…</p>", "please wait", "<html ng-app>",
                                  "data-v-app", "__NUXT__", "svelte-1x", "mohon tunggu", "\ud800 loading", "id = app"])
def test_render_precheck_finds_a_marker_exactly_where_a_substring_test_does(tail: str) -> None:
    """The precheck scans a page once (RE2) for the app-root markers and placeholder words; its answer
    must be that of testing each marker with `in` (lone surrogates included, which RE2 cannot take)."""
    from spiders import render

    for html in (f"<html><body>{tail}</body></html>", f"<html><script>var a;</script><body>{tail}</body></html>"):
        lowered = html.lower()
        expected = ("no" if "<script" not in lowered else "look" if any(
            m in lowered for m in render._ROOT_MARKERS + render.PLACEHOLDER_WORDS) else "text")
        assert render.precheck(html) == expected
