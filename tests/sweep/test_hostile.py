"""Hostile and broken sites cost only their own unit: a 50 MB page, a trickling server, a session-id
trap, invalid bytes for the declared encoding, a malformed PDF — each on a real server on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.sweep.conftest import EtagSite, page, patuh, serve, write_units

HOME_LINKS = [("/besar.html", "Dokumen Besar"), ("/lambat.html", "Layanan Lambat"), ("/sesi.php", "Layanan Sesi"),
              ("/standar-pelayanan.html", "Standar Pelayanan"), ("/rusak.pdf", "Unduh PDF")]
STANDARD = "<table><tr><td>Persyaratan</td><td>KTP asli dan Kartu Keluarga \xff\xfe</td></tr></table>"


class Hostile(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        Hostile.requests.append(self.path)
        path = self.path.split("?")[0]
        if path == "/robots.txt":
            return self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        if path == "/":
            return self._send(page("Beranda", "<p>Selamat datang</p>", HOME_LINKS).encode(), "text/html; charset=utf-8")
        if path == "/besar.html":  # 50 MB, announced: the download is refused before it is read
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(50 * 16):
                    self.wfile.write(b"<p>" + b"x" * 65530 + b"</p>")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/lambat.html":  # one byte every half second, for ever: the download timeout ends it
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                for _ in range(240):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path == "/sesi.php":  # every visit links to itself with a fresh session id
            sid = uuid.uuid4().hex
            body = page("Sesi", f"<p><a href='/sesi.php?PHPSESSID={sid}'>Lanjut</a></p>", HOME_LINKS)
            return self._send(body.encode(), "text/html; charset=utf-8")
        if path == "/standar-pelayanan.html":  # declared UTF-8, carries bytes that are not
            body = page("Standar Pelayanan KTP", STANDARD, HOME_LINKS).encode("latin-1")
            return self._send(body, "text/html; charset=utf-8")
        if path == "/rusak.pdf":
            return self._send(b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> trailer garbage", "application/pdf")
        self.send_response(404)
        self.end_headers()
        return None

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile() -> Iterator[str]:
    Hostile.requests = []
    server = ThreadingHTTPServer(("127.0.2.2", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.2.2:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_hostile_site_costs_only_its_own_pages(tmp_path: Path, hostile: str, sites: list[EtagSite]) -> None:
    serve(sites, 1)
    db = tmp_path / "p.db"
    units = write_units(tmp_path / "u.csv", sites)
    with units.open("a", encoding="utf-8") as fh:
        fh.write(f"Unit Jahat,dinas_sosial,Kabupaten Contoh,{hostile}\n")
    assert patuh(db, "units", "import", str(units)).returncode == 0
    started = time.monotonic()
    run = patuh(db, "sweep", "-s", "DOWNLOAD_TIMEOUT=4", "-s", "RETRY_TIMES=0", timeout=240)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - started < 180
    reports = {r["unit"]["url"]: r for r in json.loads(patuh(db, "report", "--format", "json").stdout)}
    bad, good = reports[hostile], reports[sites[0].url]
    assert good["reachable"] and {f["indicator"]: f["status"] for f in good["findings"]}["service_charter"] == "present"
    assert bad["reachable"]
    req = next(f for f in bad["findings"] if f["indicator"] == "requirements")
    assert req["status"] == "present" and "KTP asli" in req["evidence"][0]["snippet"]  # bad bytes replaced, not fatal
    with sqlite3.connect(db) as con:
        errors = dict(con.execute("SELECT p.url, p.error FROM page p JOIN visit v ON v.id = p.visit_id "
                                  "JOIN unit u ON u.id = v.unit_id WHERE u.url = ? AND p.error IS NOT NULL",
                                  (hostile,)).fetchall())
    assert any("terlalu besar" in e for u, e in errors.items() if u.endswith("/besar.html"))
    assert any(e == "timeout" for u, e in errors.items() if u.endswith("/lambat.html"))
    sessions = [r for r in Hostile.requests if r.startswith("/sesi.php")]
    assert len(sessions) <= 2  # session ids are not new pages
    assert "/rusak.pdf" in Hostile.requests  # fetched, read as an empty document, nothing broke
