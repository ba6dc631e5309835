"""A farm of small in-memory web sites for end-to-end tests, served by the standard library.

Every site gets its own loopback address (127.0.0.2, 127.0.0.3, ...) and an ephemeral port, so
the crawler sees distinct hosts, exactly as it would for distinct units. A site maps paths to
canned `Reply` objects or to handlers (functions of the `Hit` request) that build a reply on the
fly (redirect loops, infinite calendars). Each site keeps an access log of the request targets
it was asked for and the SHA-256 of every body it served, so tests can assert what the crawler
did (and did not) request and that stored evidence hashes the bytes really served.

A site can also be served over HTTPS with a self-signed certificate (`tls=True`).

Also here: `html_page` to write a page, `calendar_trap` (an endless ``?month=N`` calendar) and
`make_pdf`, a tiny PDF writer with a real text layer (Helvetica, one ``Tj`` per line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HTML_UTF8 = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Hit:
    """One request as a handler sees it."""

    method: str
    target: str  # path and query exactly as requested
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Reply:
    """What the server answers: status, raw body, Content-Type (None: no header), extra headers, delay."""

    status: int = 200
    body: bytes | str = b""
    content_type: str | None = HTML_UTF8
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def body_bytes(self) -> bytes:
        """The body as bytes; a str body is encoded as UTF-8 (pass bytes for anything else)."""
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Callable[[Hit], Reply]
Route = Reply | Handler


def html(body: str, title: str = "Beranda", *, status: int = 200, delay: float = 0.0) -> Reply:
    """A UTF-8 HTML reply whose <body> is `body`."""
    return Reply(status=status, body=html_page(body, title), delay=delay)


def html_page(body: str, title: str = "Beranda", head: str = "") -> str:
    """A complete HTML document; `body` and `head` are inserted as markup, `title` is escaped."""
    return (f"<!doctype html><html lang='id'><head>{head}<title>{escape(title)}</title></head>"
            f"<body>{body}</body></html>")


def redirect(location: str, status: int = 302) -> Reply:
    """A redirect to `location` (absolute or relative)."""
    return Reply(status=status, body=b"", content_type=None, headers={"Location": location})


def text(body: str, content_type: str = "text/plain; charset=utf-8", status: int = 200) -> Reply:
    """A plain-text reply (robots.txt and the like)."""
    return Reply(status=status, body=body, content_type=content_type)


def robots(*disallow: str, agent: str = "*") -> Reply:
    """A robots.txt that disallows each path prefix in `disallow` for `agent`."""
    lines = [f"User-agent: {agent}", *(f"Disallow: {d}" for d in disallow)]
    return text("\n".join(lines) + "\n")


NOT_FOUND = Reply(status=404, body=html_page("<h1>404 Tidak ditemukan</h1>", "404"))


def with_etag(reply: Reply) -> Handler:
    """Serve `reply` with an ETag of its body, and 304 Not Modified to a matching If-None-Match."""
    tag = '"' + hashlib.sha256(reply.body_bytes()).hexdigest()[:16] + '"'

    def handle(hit: Hit) -> Reply:
        asked = {k.lower(): v for k, v in hit.headers.items()}.get("if-none-match")
        if asked == tag:
            return Reply(status=304, body=b"", content_type=None, headers={"ETag": tag})
        return Reply(status=reply.status, body=reply.body, content_type=reply.content_type,
                     headers={**reply.headers, "ETag": tag}, delay=reply.delay)

    return handle


def calendar_trap(prefix: str = "/agenda/", days: int = 5) -> Handler:
    """An endless calendar: ``prefix?month=N`` links to ``?month=N+1`` and to day pages, forever."""

    def handle(hit: Hit) -> Reply:
        try:
            month = int(hit.query.get("month", ["1"])[0])
        except ValueError:
            month = 1
        day_links = "".join(f"<li><a href='{prefix}?month={month}&amp;day={d}'>Kegiatan {d}/{month}</a></li>"
                            for d in range(1, days + 1))
        body = (f"<h1>Agenda kegiatan bulan {month}</h1><ul>{day_links}</ul>"
                f"<p><a href='{prefix}?month={month - 1}'>&laquo; Bulan sebelumnya</a> | "
                f"<a href='{prefix}?month={month + 1}'>Bulan berikutnya &raquo;</a></p>")
        return html(body, f"Agenda {month}")

    return handle


class Site:
    """One in-memory web site: routes by path, plus an optional fallback handler for unknown paths."""

    def __init__(self, name: str, routes: Mapping[str, Route] | None = None, fallback: Handler | None = None) -> None:
        self.name = name
        self.routes: dict[str, Route] = dict(routes or {})
        self.fallback = fallback
        self.log: list[str] = []  # request targets (path?query), in order of arrival
        self.served: dict[str, str] = {}  # request target -> sha256 of the body served
        self.answers: list[tuple[Hit, int]] = []  # every request with the status it was answered
        self._lock = threading.Lock()
        self.active = 0  # requests being answered right now
        self.max_active = 0  # the most requests ever answered at once
        self.host = ""
        self.port = 0
        self.scheme = "http"

    # -- addresses -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://127.0.0.x:port/`` once served (without the port when it is the scheme's default)."""
        if not self.port:
            raise RuntimeError(f"site {self.name!r} is not being served")
        default = {"http": 80, "https": 443}[self.scheme]
        return f"{self.scheme}://{self.host}/" if self.port == default else f"{self.scheme}://{self.host}:{self.port}/"

    def url(self, path: str = "/") -> str:
        """The absolute URL of `path` on this site."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def owns(self, url: str) -> bool:
        """Whether `url` is on this site (same host and port)."""
        p = urlsplit(url)
        port = p.port or {"http": 80, "https": 443}.get(p.scheme)
        return p.scheme == self.scheme and p.hostname == self.host and port == self.port

    # -- the access log ----------------------------------------------------------------------------
    def requested(self, prefix: str = "/") -> list[str]:
        """Request targets that start with `prefix`, in order (repeats kept)."""
        with self._lock:
            return [t for t in self.log if t.startswith(prefix)]

    def pages_requested(self) -> list[str]:
        """Every request target except robots.txt, repeats kept (a screenshot of evidence asks again)."""
        return [t for t in self.requested() if urlsplit(t).path != "/robots.txt"]

    def distinct_pages(self) -> set[str]:
        """The distinct request targets except robots.txt."""
        return set(self.pages_requested())

    def sha256_of(self, url: str) -> str | None:
        """SHA-256 of the body last served for `url` (absolute URL on this site, or a request target)."""
        p = urlsplit(url)
        target = p.path + (f"?{p.query}" if p.query else "")
        with self._lock:
            return self.served.get(target)

    # -- serving -----------------------------------------------------------------------------------
    def answer(self, hit: Hit) -> Reply:
        """The reply for `hit`, logged."""
        with self._lock:
            self.log.append(hit.target)
        route = self.routes.get(hit.path)
        if route is None:
            route = self.fallback or NOT_FOUND
        reply = route(hit) if callable(route) else route
        with self._lock:
            self.answers.append((hit, reply.status))
        return reply

    def begin(self) -> None:
        """A request starts being answered (for the concurrency high-water mark)."""
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def end(self) -> None:
        """A request has been answered."""
        with self._lock:
            self.active -= 1

    def record(self, target: str, body: bytes) -> None:
        """Remember the hash of a body that was sent."""
        with self._lock:
            self.served[target] = hashlib.sha256(body).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    site: Site

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: a client that hangs up mid-handshake (budget reached, timeout) is no test failure."""
        return


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SiteFarm/1.0"
    protocol_version = "HTTP/1.0"

    def _serve(self, with_body: bool) -> None:
        split = urlsplit(self.path)
        hit = Hit(method=self.command, target=self.path, path=split.path or "/",
                  query=parse_qs(split.query, keep_blank_values=True), headers=dict(self.headers.items()))
        site = self.server.site
        site.begin()
        try:
            self._send(site, site.answer(hit), with_body)
        finally:
            site.end()

    def _send(self, site: Site, reply: Reply, with_body: bool) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body_bytes()
        try:
            self.send_response(reply.status)
            if reply.content_type is not None:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)
                site.record(self.path, body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout, budget): fine
            pass

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the Site keeps its own log
        return


_addresses = itertools.cycle(range(2, 255))


class SiteFarm:
    """Serves any number of `Site`s, each on its own 127.0.0.x address and ephemeral port."""

    def __init__(self) -> None:
        self._servers: list[tuple[_Server, threading.Thread]] = []
        self._tls: ssl.SSLContext | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sitefarm-tls-")
            cert, key = self_signed_certificate(Path(self._tmp.name))
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            self._tls = ctx
        return self._tls

    def serve(self, site: Site, tls: bool = False, port: int = 0) -> Site:
        """Start serving `site` (over HTTPS with a self-signed certificate if `tls`) and return it.

        `port` 0 takes an ephemeral port; a fixed port (80) may raise OSError where binding it is not allowed.
        """
        host = f"127.0.0.{next(_addresses)}"
        server = _Server((host, port), _RequestHandler)
        if tls:
            server.socket = self._tls_context().wrap_socket(server.socket, server_side=True,
                                                            do_handshake_on_connect=False)
        server.site = site
        site.host, site.port, site.scheme = host, server.server_address[1], "https" if tls else "http"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                  name=f"sitefarm-{site.name}", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        return site

    def site(self, name: str, routes: Mapping[str, Route] | None = None, fallback: Handler | None = None,
             tls: bool = False, port: int = 0) -> Site:
        """Build and serve a site in one call."""
        return self.serve(Site(name, routes, fallback), tls=tls, port=port)

    @staticmethod
    def closed_port_url() -> str:
        """A URL on which nothing listens: connecting to it is refused."""
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return f"http://127.0.0.1:{port}/"

    def stop(self) -> None:
        """Stop every server and close its socket."""
        for server, thread in self._servers:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
        self._servers.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp, self._tls = None, None


def self_signed_certificate(folder: Path) -> tuple[str, str]:
    """Write a self-signed certificate for 127.0.0.0/8 and its key into `folder`; return their paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sitefarm.test")])
    now = dt.datetime.now(dt.UTC)
    loopback = (x509.IPAddress(ipaddress.ip_address(f"127.0.0.{i}")) for i in range(1, 255))
    sans = [x509.DNSName("sitefarm.test"), *loopback]
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


# -- a minimal PDF writer ---------------------------------------------------------------------------
def _pdf_string(line: str) -> str:
    """A PDF literal string in WinAnsi (Latin-1 subset), with ( ) and \\ escaped."""
    raw = line.encode("cp1252", errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages: Iterable[Iterable[str]], title: str = "") -> bytes:
    """A valid PDF with a text layer: one page per item of `pages`, one text line per string.

    Objects: catalog, page tree, a Helvetica font (WinAnsiEncoding), and per page a page object
    and a content stream ``BT /F1 12 Tf 72 y Td (line) Tj ET`` per line; then the xref table and
    trailer with exact byte offsets.
    """
    page_lines = [list(p) for p in pages]
    n = len(page_lines)
    # object numbers: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs
    objects: dict[int, bytes] = {}
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(n))
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode("latin-1")
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objects[4] = f"<< /Title {_pdf_string(title)} /Producer (sitefarm) >>".encode("latin-1")
    for i, lines in enumerate(page_lines):
        page_no, content_no = 5 + 2 * i, 6 + 2 * i
        ops = []
        y = 760
        for line in lines:
            ops.append(f"BT /F1 12 Tf 72 {y} Td {_pdf_string(line)} Tj ET")
            y -= 18
        stream = "\n".join(ops).encode("latin-1")
        objects[page_no] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_no} 0 R >>").encode("latin-1")
        objects[content_no] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += f"{number} 0 obj\n".encode("latin-1") + objects[number] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n".encode("latin-1")
    out += b"0000000000 65535 f \n"
    for number in range(1, size):
        out += f"{offsets[number]:010d} 00000 n \n".encode("latin-1")
    out += f"trailer\n<< /Size {size} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode("latin-1")
    return bytes(out)
