#!/usr/bin/env python3
"""Serve the Patuh demo websites: every folder of demo/sites/ on its own port.

    python3 demo/serve.py                       # 127.0.0.1:18700, 18701, ... in sorted site-id order
    python3 demo/serve.py --base-port 19000 --only pkm-moru,dukcapil-melawi
    python3 demo/serve.py --root demo/sites --host 127.0.0.1 --verbose

Ports are stable: the N-th site of the sorted list of folders under --root always gets
base-port + N, with or without --only. Once every selected site listens, one JSON line
`{"site_id": "http://HOST:PORT/", ...}` is printed to stdout and flushed. SIGTERM or SIGINT stops
all servers and the process exits 0.

Behaviour of each site server:
  - a directory URL with a trailing slash serves its index.html; without the slash it answers
    301 to the slash form; a directory without index.html answers 404 (no listings);
  - files are served with a Content-Type from their extension (text/html; charset=utf-8 for
    .html), robots.txt included; anything else, and any path escaping the site folder, is 404;
  - POST to an existing page answers 200 "Terima kasih" (so the demo survey form "works");
  - no access log unless --verbose (then one line per request on stderr).

Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import quote, unquote, urlsplit

DEFAULT_ROOT = Path(__file__).resolve().parent / "sites"
DEFAULT_BASE_PORT = 18700

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".csv": "text/csv; charset=utf-8",
}
FALLBACK_TYPE = "application/octet-stream"

NOT_FOUND_BODY = (
    b'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>404 Tidak Ditemukan</title>'
    b"</head><body><h1>404</h1><p>Halaman tidak ditemukan.</p></body></html>\n"
)
THANKS_BODY = (
    b'<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><title>Terima kasih</title>'
    b"</head><body><p>Terima kasih. Isian Anda sudah kami terima.</p></body></html>\n"
)


class SiteHandler(BaseHTTPRequestHandler):
    """Serves one site folder. Subclassed per site with `site_root` and `verbose` set."""

    site_root: Path = DEFAULT_ROOT
    verbose: bool = False
    server_version = "PatuhDemo/1.0"
    sys_version = ""

    # --- request methods -------------------------------------------------------------------

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > 0:
            self.rfile.read(min(length, 1 << 20))
        target = self._resolve(urlsplit(self.path).path)
        if target is None or not (target.is_file() or (target / "index.html").is_file()):
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, CONTENT_TYPES[".html"])
            return
        self._send(HTTPStatus.OK, THANKS_BODY, CONTENT_TYPES[".html"])

    # --- helpers -----------------------------------------------------------------------------

    def _resolve(self, url_path: str) -> Path | None:
        """Map a URL path to a path inside the site folder, or None if it would leave it."""
        parts = [p for p in unquote(url_path).split("/") if p not in ("", ".")]
        if any(p == ".." or "\\" in p or "\x00" in p for p in parts):
            return None
        root = self.site_root.resolve()
        target = root.joinpath(*parts)
        try:
            target.resolve().relative_to(root)
        except (ValueError, OSError):
            return None
        return target

    def _serve(self, send_body: bool) -> None:
        split = urlsplit(self.path)
        target = self._resolve(split.path)
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, CONTENT_TYPES[".html"], send_body)
            return
        if target.is_dir():
            if not split.path.endswith("/"):
                location = quote(split.path, safe="/%:@!$&'()*+,;=-._~") + "/"
                if split.query:
                    location += "?" + split.query
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            target = target / "index.html"
        if not target.is_file():
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, CONTENT_TYPES[".html"], send_body)
            return
        try:
            data = target.read_bytes()
        except OSError:
            self._send(HTTPStatus.NOT_FOUND, NOT_FOUND_BODY, CONTENT_TYPES[".html"], send_body)
            return
        ctype = CONTENT_TYPES.get(target.suffix.lower(), FALLBACK_TYPE)
        self._send(HTTPStatus.OK, data, ctype, send_body)

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, send_body: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        if self.verbose:
            sys.stderr.write(f"[{self.site_root.name}] {self.address_string()} {format % args}\n")


class QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print tracebacks for dropped connections."""

    daemon_threads = True
    allow_reuse_address = True
    verbose = False

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        if self.verbose:
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def list_sites(root: Path) -> list[str]:
    """Site ids: the sub-folders of root, sorted, skipping hidden and underscore names."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def make_server(site_dir: Path, host: str, port: int, verbose: bool) -> QuietServer:
    handler = type(
        f"Handler_{site_dir.name.replace('-', '_')}",
        (SiteHandler,),
        {"site_root": site_dir, "verbose": verbose},
    )
    server = QuietServer((host, port), handler)
    server.verbose = verbose
    return server


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve each Patuh demo site on its own port.")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="folder holding one folder per site")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--base-port",
        type=int,
        default=DEFAULT_BASE_PORT,
        help=f"port of the first site in sorted order (default {DEFAULT_BASE_PORT})",
    )
    parser.add_argument("--only", default="", help="comma-separated site ids to serve (ports stay stable)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    root: Path = args.root.resolve()
    if not root.is_dir():
        print(f"serve.py: no such folder: {root}", file=sys.stderr)
        return 2
    sites = list_sites(root)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(sites))
    if unknown:
        print(f"serve.py: unknown site id(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    servers: list[QuietServer] = []
    urls: dict[str, str] = {}
    try:
        for index, site in enumerate(sites):
            if wanted and site not in wanted:
                continue
            port = args.base_port + index
            servers.append(make_server(root / site, args.host, port, args.verbose))
            urls[site] = f"http://{args.host}:{port}/"
    except OSError as exc:
        print(f"serve.py: cannot listen: {exc}", file=sys.stderr)
        for server in servers:
            server.server_close()
        return 1

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threads = [threading.Thread(target=s.serve_forever, name=f"site-{i}", daemon=True) for i, s in enumerate(servers)]
    for thread in threads:
        thread.start()

    sys.stdout.write(json.dumps(urls) + "\n")
    sys.stdout.flush()

    while not stop.wait(0.2):
        pass
    for server in servers:
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
