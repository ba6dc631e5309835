"""A tiny conditional-GET web server and a `patuh` runner for the sweep tests."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class EtagSite:
    """Pages served with ETag, answering 304 to a matching If-None-Match; logs every request."""

    pages: dict[str, str]
    delay: float = 0.0
    etag: bool = True  # False: no validators, so an unchanged page comes back as a full 200
    log: list[tuple[str, int]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self, host: str) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                import time

                path = self.path.split("?")[0]
                body = site.pages.get(path)
                if path == "/robots.txt":
                    body = "User-agent: *\nAllow: /\n"
                if body is None:
                    site.log.append((self.path, 404))
                    self.send_response(404)
                    self.end_headers()
                    return
                if site.delay and path != "/robots.txt":
                    time.sleep(site.delay)
                data = body.encode()
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                if site.etag and self.headers.get("If-None-Match") == etag:
                    site.log.append((self.path, 304))
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                site.log.append((self.path, 200))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if site.etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


def page(title: str, body: str, links: list[tuple[str, str]]) -> str:
    nav = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    return (f"<!doctype html><html lang='id'><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<nav><ul>{nav}</ul></nav><main><h1>{title}</h1>{body}</main>"
            "<footer><p>Jl. Ahmad Yani No. 9, Kecamatan Kota, Kabupaten Contoh 12345<br>Telp. (0381) 21345</p>"
            "<p>Jam pelayanan: Senin - Jumat 08.00 - 15.00 WITA</p></footer></body></html>")


NAV = [("/", "Beranda"), ("/standar-pelayanan/", "Standar Pelayanan"), ("/maklumat/", "Maklumat Pelayanan"),
       ("/berita/", "Berita")]
STANDARD = ("<table><tr><td>Persyaratan</td><td>Fotokopi KTP-el dan Kartu Keluarga</td></tr>"
            "<tr><td>Jangka waktu</td><td>2 hari kerja</td></tr><tr><td>Biaya</td><td>Gratis</td></tr></table>")
CHARTER = "<p>Dengan ini kami menyatakan sanggup menyelenggarakan pelayanan sesuai standar pelayanan.</p>"


def unit_site(n_news: int = 6) -> dict[str, str]:
    news_links = [(f"/berita/{i}/", f"Kegiatan {i}") for i in range(n_news)]
    pages = {
        "/": page("Beranda", "<p>Selamat datang.</p>", NAV),
        "/standar-pelayanan/": page("Standar Pelayanan KTP", STANDARD, NAV),
        "/maklumat/": page("Maklumat Pelayanan", CHARTER, NAV),
        "/berita/": page("Berita", "<p>Berita terbaru</p>", NAV + news_links),
    }
    for href, text in news_links:
        pages[href] = page(text, "<p>Kegiatan rutin kantor.</p>", NAV)
    return pages


@pytest.fixture
def sites() -> Iterator[list[EtagSite]]:
    made: list[EtagSite] = []
    yield made
    for site in made:
        site.stop()


def serve(sites: list[EtagSite], count: int, delay: float = 0.0, etag: bool = True) -> list[EtagSite]:
    for i in range(count):
        site = EtagSite(pages=unit_site(), delay=delay, etag=etag)
        site.start(f"127.0.1.{i + 2}")
        sites.append(site)
    return sites


def write_units(path: Path, sites: list[EtagSite]) -> Path:
    rows = ["name,kind,region,url"] + [f"Unit {i},puskesmas,Kabupaten Contoh,{s.url}" for i, s in enumerate(sites)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def patuh(db: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    # screenshots fetch evidence pages in Chromium: they would blur what these tests count
    extra = ["-s", "PATUH_SCREENSHOTS=none"] if args and args[0] == "sweep" else []
    return subprocess.run([sys.executable, "-m", "crawler", *args, *extra, "--db", f"sqlite:///{db}"],
                          capture_output=True, text=True, timeout=timeout, cwd=db.parent)
