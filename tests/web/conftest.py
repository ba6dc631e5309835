"""Fixtures of the workbench tests: served sites, a swept database with users, apps and a live server.

One session-wide *workspace* is built once: the four demo sites plus a hostile site (its text
carries script payloads) are served on their own loopback addresses, imported as units and swept
with the real `patuh` command (no JavaScript rendering, to stay fast); three users are added with
`patuh users add` (password on stdin). Tests that write (reviews, sweeps) work on a copy of it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO_SITES = REPO / "demo" / "sites"
PASSWORDS = {"admin": "sandi-admin-123", "penilai": "sandi-penilai-123", "moru": "sandi-moru-123",
             "melawi": "sandi-melawi-123"}
SECRET = b"patuh-test-secret-0123456789abcdef"

HOSTILE_INDEX = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Dinas Uji &lt;script&gt;window.__pwned=1&lt;/script&gt;</title>
<script>window.__pwned = 1;</script></head>
<body>
<header><nav><a href="/">Beranda</a> <a href="/kontak/">Kontak</a></nav></header>
<main>
<h1>Selamat datang &lt;img src=x onerror="window.__pwned=2"&gt;</h1>
<p>Dinas Uji melayani masyarakat &lt;script&gt;window.__pwned=1&lt;/script&gt; setiap hari kerja.</p>
<img src="x" onerror="window.__pwned=3" alt="foto">
</main>
</body></html>
"""
HOSTILE_KONTAK = """<!doctype html>
<html lang="id"><head><meta charset="utf-8"><title>Kontak</title></head>
<body><main>
<h1>Kontak dan jam pelayanan</h1>
<h2>Jam pelayanan</h2>
<p>Jam pelayanan: Senin–Jumat 08.00–15.00 WITA &lt;script&gt;window.__pwned=1&lt;/script&gt;</p>
<h2>Alamat</h2>
<p>Alamat: Jl. &lt;img src=x onerror="window.__pwned=2"&gt; No. 1, Kota Kupang. Telepon: (0380) 821234.
Email: dinas.uji@contoh.go.id</p>
<script>window.__pwned = 4;</script>
</main></body></html>
"""
HOSTILE_NAME = 'Dinas Uji <img src=x onerror="window.__pwned=5">'


def _load_demo_server() -> Any:
    spec = importlib.util.spec_from_file_location("patuh_demo_serve", REPO / "demo" / "serve.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo_serve = _load_demo_server()


@dataclass
class Sites:
    """Static sites served from folders, each on its own loopback address and a free port."""

    servers: list[Any] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    def serve(self, site_id: str, folder: Path, host: str) -> str:
        server = demo_serve.make_server(folder, host, 0, False)
        threading.Thread(target=server.serve_forever, daemon=True, name=f"site-{site_id}").start()
        self.servers.append(server)
        url = f"http://{host}:{server.server_address[1]}/"
        self.urls[site_id] = url
        return url

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def write_hostile_site(folder: Path) -> None:
    """A small site whose text (not markup) carries script and onerror payloads."""
    (folder / "kontak").mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(HOSTILE_INDEX, encoding="utf-8")
    (folder / "kontak" / "index.html").write_text(HOSTILE_KONTAK, encoding="utf-8")


def patuh_env() -> dict[str, str]:
    """The environment of a `patuh` subprocess: no PATUH_* of the caller, no network for tldextract."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATUH_")}
    env.update({"TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "", "NO_COLOR": "1", "COLUMNS": "200"})
    return env


def run_patuh(cwd: Path, *args: str, stdin: str | None = None,
              timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `python -m crawler ARGS` in ``cwd``; fail the test with its output if it exits non-zero."""
    proc = subprocess.run([sys.executable, "-m", "crawler", *args], cwd=cwd, env=patuh_env(), input=stdin,
                          capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"patuh {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@dataclass
class Workspace:
    """A folder with a swept SQLite database, its WARC archive and the units' URLs."""

    root: Path
    urls: dict[str, str]

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'patuh.db'}"

    def patuh(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_patuh(self.root, *args, "--db", self.db_url, stdin=stdin)

    def sweep(self) -> None:
        self.patuh("sweep", "-s", "PATUH_RENDER=never")

    def copy(self, dest: Path) -> Workspace:
        """An independent copy (database via SQLite's backup API, archive files copied)."""
        dest.mkdir(parents=True, exist_ok=True)
        src = sqlite3.connect(self.root / "patuh.db")
        dst = sqlite3.connect(dest / "patuh.db")
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        shutil.copytree(self.root / "data", dest / "data", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.lock"))
        return Workspace(dest, dict(self.urls))


@pytest.fixture(scope="session")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """The demo sites and the hostile site, each on 127.0.0.(20+n)."""
    farm = Sites()
    hostile = tmp_path_factory.mktemp("hostile")
    write_hostile_site(hostile)
    for n, site_id in enumerate(demo_serve.list_sites(DEMO_SITES)):
        farm.serve(site_id, DEMO_SITES / site_id, f"127.0.0.{20 + n}")
    farm.serve("hostile", hostile, "127.0.0.30")
    try:
        yield farm
    finally:
        farm.stop()


UNITS = {  # site id -> (name, kind, region, province)
    "dinsos-rote-ndao": ("Dinas Sosial Kabupaten Rote Ndao", "dinas_sosial", "Kabupaten Rote Ndao",
                         "Nusa Tenggara Timur"),
    "dpmptsp-flores-timur": ("DPMPTSP Kabupaten Flores Timur", "dpmptsp", "Kabupaten Flores Timur",
                             "Nusa Tenggara Timur"),
    "dukcapil-melawi": ("Dinas Dukcapil Kabupaten Melawi", "dukcapil", "Kabupaten Melawi", "Kalimantan Barat"),
    "pkm-moru": ("UPTD Puskesmas Moru", "puskesmas", "Kabupaten Alor", "Nusa Tenggara Timur"),
    "hostile": (HOSTILE_NAME, "opd", "Kota Pontianak", "Kalimantan Barat"),
}


def write_units_csv(path: Path, urls: dict[str, str]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "kind", "region", "url", "province"])
        for site_id, (name, kind, region, province) in UNITS.items():
            writer.writerow([name, kind, region, urls[site_id], province])


@pytest.fixture(scope="session")
def workspace(sites: Sites, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Units imported, one sweep done, users added (admin, penilai for NTT, moru and melawi agencies)."""
    ws = Workspace(tmp_path_factory.mktemp("workspace"), dict(sites.urls))
    write_units_csv(ws.root / "units.csv", ws.urls)
    ws.patuh("units", "import", "units.csv")
    ws.sweep()
    ws.patuh("users", "add", "admin", "--role", "admin", stdin=PASSWORDS["admin"] + "\n")
    ws.patuh("users", "add", "penilai", "--role", "assessor", "--region", "Nusa Tenggara Timur",
             stdin=PASSWORDS["penilai"] + "\n")
    ws.patuh("users", "add", "moru", "--role", "agency", "--unit", ws.urls["pkm-moru"], stdin=PASSWORDS["moru"] + "\n")
    ws.patuh("users", "add", "melawi", "--role", "agency", "--unit", ws.urls["dukcapil-melawi"],
             stdin=PASSWORDS["melawi"] + "\n")
    return ws


@pytest.fixture
def private_ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    """A copy of the workspace that one test may change."""
    return workspace.copy(tmp_path / "ws")


def make_config(ws: Workspace, **overrides: Any) -> Any:
    """A `WebConfig` for the workspace (private targets refused unless overridden)."""
    from crawler.web.app import WebConfig

    fields: dict[str, Any] = {"db_url": ws.db_url, "secret": SECRET, "allow_private": False,
                              "archive_dir": ws.root / "data" / "archive",
                              "screenshot_dir": ws.root / "data" / "screenshots", "work_dir": ws.root / "data" / "web",
                              "check_render": "never", "check_max_pages": 20, "check_cwd": ws.root}
    fields.update(overrides)
    return WebConfig(**fields)


class Browser:
    """A `TestClient` that signs in and posts forms with the page's CSRF token."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def csrf(self, path: str = "/masuk") -> str:
        import re

        html = self.client.get(path).text
        match = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, name: str, password: str | None = None) -> Any:
        token = self.csrf("/masuk")
        return self.client.post("/masuk", data={"csrf_token": token, "name": name,
                                                "password": password if password is not None else PASSWORDS[name]},
                                follow_redirects=False)

    def post(self, path: str, data: dict[str, str], token_from: str = "/") -> Any:
        token = self.csrf(token_from)
        return self.client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


@pytest.fixture
def make_client() -> Iterator[Any]:
    """A factory of signed-out `Browser`s on an app for a workspace (closed after the test)."""
    from fastapi.testclient import TestClient

    from crawler.web.app import create_app

    opened: list[Any] = []

    def factory(ws: Workspace, **overrides: Any) -> Browser:
        client = TestClient(create_app(make_config(ws, **overrides)))
        client.__enter__()
        opened.append(client)
        return Browser(client)

    yield factory
    for client in opened:
        client.__exit__(None, None, None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """`patuh serve` running in a subprocess."""

    url: str
    proc: subprocess.Popen[str]
    ws: Workspace


def start_server(ws: Workspace, allow_private: bool) -> LiveServer:
    """Start `patuh serve` on a free port in the workspace and wait until it answers."""
    import urllib.request

    port = free_port()
    args = [sys.executable, "-m", "crawler", "serve", "--port", str(port), "--db", ws.db_url,
            "--check-render", "never", "--check-max-pages", "20"]
    if allow_private:
        args.append("--allow-private")
    env = patuh_env()
    env["PATUH_SECRET_KEY"] = SECRET.decode()
    proc = subprocess.Popen(args, cwd=ws.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"patuh serve exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(url + "/sehat", timeout=1) as resp:
                if resp.status == 200:
                    return LiveServer(url, proc, ws)
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("patuh serve did not start within 30 s")


def stop_server(server: LiveServer) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=5)


def unit_id(ws: Workspace, site_id: str) -> int:
    """The id of the unit registered for a site."""
    con = sqlite3.connect(ws.root / "patuh.db")
    try:
        row = con.execute("SELECT id FROM unit WHERE url = ?", (ws.urls[site_id],)).fetchone()
    finally:
        con.close()
    assert row, site_id
    return int(row[0])


def current_findings(ws: Workspace, site_id: str) -> dict[str, tuple[int, str, float]]:
    """indicator -> (finding id, status, confidence) of the unit's newest judged visit."""
    con = sqlite3.connect(ws.root / "patuh.db")
    try:
        rows = con.execute(
            "SELECT f.indicator, f.id, f.status, f.confidence FROM finding f JOIN visit v ON v.id = f.visit_id "
            "WHERE v.unit_id = ? AND v.sweep_id = (SELECT max(sweep_id) FROM visit WHERE unit_id = ? "
            "AND status IN ('done', 'failed'))", (unit_id(ws, site_id), unit_id(ws, site_id))).fetchall()
    finally:
        con.close()
    return {ind: (int(fid), status, float(conf)) for ind, fid, status, conf in rows}


def evidence_ids(ws: Workspace, finding_id: int) -> list[int]:
    """The evidence row ids of a finding."""
    con = sqlite3.connect(ws.root / "patuh.db")
    try:
        return [int(r[0]) for r in con.execute("SELECT id FROM evidence WHERE finding_id = ? ORDER BY id",
                                                (finding_id,)).fetchall()]
    finally:
        con.close()
