"""The evidence archive: every fetched response, byte for byte, in standard WARC files.

Files live under ``./data/archive/`` (``WarcArchive.root``) and are named
``<prefix>-<UTC timestamp, µs>-<serial>-<pid>.warc.gz``. Each is WARC/1.1, gzip-compressed one
record per gzip member (so any record can be read by seeking to its offset), begins with one
``warcinfo`` record, and is rotated before the next record would take it past
``max_file_bytes``. They open in the standard tools (``warcio check``/``index``/``extract``,
pywb, …).

Records:

- ``write_response`` — a ``response`` record: the HTTP status line, headers and body, with
  ``WARC-Payload-Digest`` / ``WARC-Block-Digest`` as ``sha256:<base32>`` (the WARC convention)
  and Patuh's own hex SHA-256 of the body in ``WARC-Patuh-SHA256`` (what ``Page.sha256`` and
  ``Evidence.sha256`` hold). Optionally a ``request`` record, concurrent to it.
- ``write_revisit`` — a ``revisit`` record for a body already archived (same SHA-256:
  identical-payload-digest profile; a 304: server-not-modified profile), pointing at the
  original response by ``WARC-Refers-To`` (record id), ``-Target-URI`` and ``-Date``, and by
  ``WARC-Patuh-Refers-To-Ref`` (our ``RecordRef``, so that resolving needs no index).
- ``write_resource`` — bytes that are no HTTP response: a screenshot (``resource``), the DOM of
  a rendered page (``conversion``, referring to the response it was rendered from), notes
  (``metadata``).

Every ``write_*`` returns a ``RecordRef`` — file name, offset and length of the record —
whose string form (``patuh-….warc.gz#12345+6789``) is what a page or evidence row stores;
``read_record`` turns it back into an ``ArchivedRecord`` (a revisit resolved on request).

Safety:

- A record is compressed in memory and handed to the kernel with one ``write`` on an
  ``O_APPEND`` descriptor before ``write_*`` returns: a ``kill -9`` after the return leaves a
  readable file up to that record (``fsync=True`` also survives a power loss, at a cost). A
  crash mid-write leaves at most one truncated record at the end of that one file; the archive
  never appends to an existing file, and ``iter_file`` stops cleanly at such a tail.
- Files are created with ``O_EXCL`` and carry the pid, so writers in several processes (and a
  process forked from a writer: it opens its own file) never share a file. Within a process
  the writer takes a lock, so threads may share one ``WarcArchive``.
- Hostile servers: header names and values may be ``str`` or ``bytes``; ``bytes`` are kept as
  they came, ``str`` are written as latin-1 when they can be (so Scrapy's latin-1 decoding
  round-trips exactly) and as UTF-8 otherwise; CR/LF inside a header (or the reason phrase)
  becomes a space, so that no server can inject headers into the record. Bodies are written as
  given (the crawler bounds them); a target URL longer than 64 KiB is refused with
  ``ValueError``, and whitespace or control characters in it are percent-encoded.
- Bodies in Patuh are already decoded (Scrapy undoes ``Content-Encoding`` and chunking), so by
  default ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` are kept as
  ``X-Archive-Orig-*`` and the true ``Content-Length`` is written: replay tools then serve the
  body as it is stored.
- A file name read back from a ref must match the archive's naming pattern (no ``/``, no
  ``..``): a stored ref is never a path outside ``root``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import ipaddress
import itertools
import logging
import os
import re
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType
from typing import Any, Final
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

_deflate: ModuleType = zlib
_MAX_LEVEL = 9
try:  # Intel ISA-L writes the same gzip members as zlib, 3.5x faster (its levels are 0-3)
    from isal import isal_zlib

    _deflate, _MAX_LEVEL = isal_zlib, 3
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    pass

log = logging.getLogger(__name__)

DEFAULT_ROOT: Final = Path("data/archive")
"""Where the archive lives unless told otherwise (relative to the working directory)."""
DEFAULT_MAX_FILE_BYTES: Final = 1 << 30
"""Rotate a file before it grows past 1 GiB."""
MAX_URL_BYTES: Final = 64 * 1024
"""Longest target URL accepted (UTF-8 bytes)."""
WARC_VERSION: Final = "WARC/1.1"
PROFILE_IDENTICAL: Final = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED: Final = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PATUH_SHA256: Final = "WARC-Patuh-SHA256"
"""Custom WARC header: the body's SHA-256 in hex, as ``Page.sha256`` holds it."""
PATUH_REFERS_TO_REF: Final = "WARC-Patuh-Refers-To-Ref"
"""Custom WARC header on a revisit: the ``RecordRef`` of the original response."""
TRUNCATED_REASONS: Final = frozenset({"length", "time", "disconnect", "unspecified"})
RESOURCE_TYPES: Final = frozenset({"resource", "conversion", "metadata"})

_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.warc(?:\.gz)?$")
_PREFIX_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,63}$")
_REF_RE: Final = re.compile(r"^(?P<file>[^#/\\]{1,255})#(?P<offset>\d{1,18})(?:\+(?P<length>\d{1,18}))?$")
_HEX64_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_URL_UNSAFE_RE: Final = re.compile(r"[\x00-\x20\x7f]")
_RECODED_HEADERS: Final = frozenset({b"content-encoding", b"transfer-encoding", b"content-length"})
_MAX_REVISIT_CHAIN: Final = 16
_HEAD_READ: Final = 8192  # compressed bytes read to find a record's WARC headers
_HEAD_FIRST: Final = 4096  # decompressed bytes in which they usually are
_HEAD_MAX: Final = 65536  # decompressed bytes they may take
# warcio raises AttributeError/TypeError on some cut-short headers (e.g. no WARC-Target-URI)
_READ_ERRORS: Final = (
    ArchiveLoadFailed, EOFError, zlib.error, OSError, ValueError, IndexError, AttributeError, TypeError,
)
_SERIAL = itertools.count(1)
_SERIAL_LOCK = threading.Lock()

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Header = tuple[str | bytes, str | bytes]
"""An HTTP header as the crawler has it: name and value, text or raw bytes."""
_Part = tuple[bytes, str, datetime | None]  # one compressed record, its id and date


class ArchiveError(Exception):
    """A record could not be found, read or trusted (missing file, damage, digest mismatch)."""


# --------------------------------------------------------------------------- references


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one record is: file name (relative to the archive root), offset and length.

    ``str(ref)`` is ``<file>#<offset>+<length>`` (``<file>#<offset>`` when the length is not
    known); ``RecordRef.parse`` reads either form back. ``record_id`` and ``date`` are known for
    refs that a writer returned; they are not part of the string form nor of equality.
    """

    file: str
    offset: int
    length: int | None = None
    record_id: str | None = field(default=None, compare=False)
    date: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.file) or ".." in self.file:
            raise ValueError(f"not an archive file name: {self.file[:300]!r}")
        if self.offset < 0 or (self.length is not None and self.length <= 0):
            raise ValueError(f"bad offset/length: {self.offset}/{self.length}")

    def __str__(self) -> str:
        return f"{self.file}#{self.offset}" + (f"+{self.length}" if self.length is not None else "")

    @classmethod
    def parse(cls, value: str) -> RecordRef:
        """The ref that ``str(ref)`` wrote; ``ValueError`` for anything else."""
        m = _REF_RE.match(value.strip()) if isinstance(value, str) else None
        if not m:
            raise ValueError(f"not a WARC record reference: {str(value)[:200]!r}")
        length = m.group("length")
        return cls(m.group("file"), int(m.group("offset")), int(length) if length else None)


@dataclass(slots=True)
class ArchivedRecord:
    """One record read back from the archive.

    ``status``/``reason``/``headers`` are the HTTP ones stored in this record (for a revisit,
    those of the revisiting fetch, e.g. 304; for a request, ``reason`` is the request line).
    ``body`` is the payload; for a revisit it is empty unless it was resolved, in which case it
    is the original's payload and ``original`` is the original response record. ``sha256`` is
    the hex SHA-256 of the body (for a revisit: of the payload it stands for).
    """

    ref: RecordRef
    type: str
    url: str
    date: datetime | None
    record_id: str
    status: int | None
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    sha256: str
    payload_digest: str | None
    warc_headers: list[tuple[str, str]]
    refers_to: RecordRef | None = None
    original: ArchivedRecord | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        """The first HTTP header called ``name`` (case-insensitive)."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), default)

    def warc_header(self, name: str, default: str | None = None) -> str | None:
        """The first WARC header called ``name`` (case-insensitive)."""
        lname = name.lower()
        return next((v for k, v in self.warc_headers if k.lower() == lname), default)


# --------------------------------------------------------------------------- encoding helpers


def warc_date(when: datetime) -> str:
    """``when`` (timezone-aware) as a WARC/1.1 date: UTC, with microseconds when there are any."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone-aware (UTC) time")
    utc = when.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{utc.microsecond:06d}Z" if utc.microsecond else "Z")


def parse_warc_date(value: str | None) -> datetime | None:
    """A WARC date as an aware UTC datetime (``None`` when missing or unreadable)."""
    if not value:
        return None
    text = value.strip().removesuffix("Z")
    try:
        if "." in text:
            base, frac = text.split(".", 1)
            return datetime.strptime(f"{base}.{(frac + '000000')[:6]}", "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def sha256_warc_digest(hex_digest: str) -> str:
    """A hex SHA-256 as WARC digests write it: ``sha256:<base32>``."""
    if not isinstance(hex_digest, str) or not _HEX64_RE.match(hex_digest.lower()):
        raise ValueError(f"not a hex SHA-256: {str(hex_digest)[:80]!r}")
    return _b32(bytes.fromhex(hex_digest))


def hex_from_warc_digest(digest: str | None) -> str | None:
    """The hex form of a ``sha256:<base32>`` (or ``sha256:<hex>``) digest; ``None`` for others."""
    if not digest or ":" not in digest:
        return None
    algo, value = digest.split(":", 1)
    if algo.strip().lower() not in ("sha256", "sha-256"):
        return None
    value = value.strip()
    if _HEX64_RE.match(value.lower()):
        return value.lower()
    try:
        raw = base64.b32decode(value.upper() + "=" * (-len(value) % 8))
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


def _b32(digest: bytes) -> str:
    return "sha256:" + base64.b32encode(digest).decode("ascii")


def _new_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def _to_bytes(value: str | bytes) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _one_line(value: bytes) -> bytes:
    """No CR or LF inside one header line: they would let a server inject headers."""
    if b"\r" in value or b"\n" in value:
        value = value.replace(b"\r\n", b" ").replace(b"\r", b" ").replace(b"\n", b" ")
    return value


def _header_name(name: str | bytes) -> bytes:
    raw = _one_line(_to_bytes(name)).strip()
    return bytes(c if 0x21 <= c <= 0x7E and c != 0x3A else 0x5F for c in raw)  # else "_"


def _http_head(first_line: bytes, headers: Iterable[Header], *, body_len: int | None) -> bytes:
    """The HTTP head (first line, headers, blank line) as bytes, cleaned as the module says.

    With ``body_len`` (a decoded body follows), the encoding and length headers are kept as
    ``X-Archive-Orig-*`` and the true ``Content-Length`` is added.
    """
    lines = [_one_line(first_line)]
    for name, value in headers:
        bname = _header_name(name)
        if not bname:
            continue
        if body_len is not None and bname.lower() in _RECODED_HEADERS:
            bname = b"X-Archive-Orig-" + bname
        lines.append(bname + b": " + _one_line(_to_bytes(value)).strip(b" \t"))
    if body_len is not None:
        lines.append(b"Content-Length: " + str(body_len).encode("ascii"))
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _status_line(status: int, reason: str | bytes) -> bytes:
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        raise ValueError(f"bad HTTP status: {status!r}")
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return b"HTTP/1.1 " + str(status).encode("ascii") + b" " + _one_line(_to_bytes(reason)).strip()


def _request_line(method: str, url: str) -> bytes:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    verb = re.sub(r"[^A-Z]", "", method.upper())[:16] or "GET"
    return verb.encode("ascii") + b" " + target.encode("utf-8", "surrogateescape") + b" HTTP/1.1"


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url:
        raise ValueError("empty URL")
    if len(url) > MAX_URL_BYTES or len(url.encode("utf-8", "surrogateescape")) > MAX_URL_BYTES:
        raise ValueError(f"URL longer than {MAX_URL_BYTES} bytes refused")
    url = _URL_UNSAFE_RE.sub(lambda m: f"%{ord(m.group()):02X}", url)
    return url.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _RawHttpHeaders(StatusAndHeaders):
    """HTTP headers that warcio writes exactly as given (it would re-encode them otherwise)."""

    def __init__(self, head: bytes) -> None:
        first = head.split(b"\r\n", 1)[0].decode("latin-1")
        protocol, _, statusline = first.partition(" ")
        super().__init__(statusline, [], protocol=protocol)
        self.headers_buff = head

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        """Keep the bytes given."""


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "0"


# --------------------------------------------------------------------------- the archive


class WarcArchive:
    """Writes and reads Patuh's WARC files under ``root``.

    Nothing is created until the first write (reading alone touches no file). Use it as a
    context manager or call ``close()``; records already returned are safe either way.
    ``compresslevel`` is zlib's 0-9, written with ISA-L (`isal`), whose levels stop at 3: every
    fetched page goes through it (1,500 farm pages of ~24 KB: ISA-L level 1 0.041 ms and 24.8% of
    the size, zlib level 3 0.145 ms and 24.2%, zlib 6 0.255 ms and 22.2%). ``fsync`` syncs every
    record to disk, ``info`` adds fields to each ``warcinfo``.
    """

    def __init__(
        self,
        root: Path | str = DEFAULT_ROOT,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        prefix: str = "patuh",
        *,
        compresslevel: int = 1,
        fsync: bool = False,
        info: Mapping[str, str] | None = None,
    ) -> None:
        if not _PREFIX_RE.match(prefix):
            raise ValueError(f"prefix must be letters, digits, '_' or '.': {prefix!r}")
        if max_file_bytes < 1024:
            raise ValueError("max_file_bytes must be at least 1024")
        if not 0 <= compresslevel <= 9:
            raise ValueError("compresslevel must be 0..9")
        self.root = Path(root)
        self.max_file_bytes = max_file_bytes
        self.prefix = prefix
        self.compresslevel = compresslevel
        self.fsync = fsync
        self.info = dict(info or {})
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._name: str | None = None
        self._size = 0
        self._records = 0  # records after the warcinfo in the current file
        self._warcinfo_id: str | None = None
        self._writer = WARCWriter(io.BytesIO(), gzip=False, warc_version=WARC_VERSION)

    # ----------------------------------------------------------------- life cycle

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def current_file(self) -> Path | None:
        """The file being written, if one is open."""
        return self.root / self._name if self._name and self._fd is not None else None

    def close(self) -> None:
        """Close the current file (it stays valid; a later write starts a new one)."""
        with self._lock:
            self._close_file()

    def _close_file(self) -> None:
        fd, self._fd = self._fd, None
        self._name, self._size, self._records, self._warcinfo_id = None, 0, 0, None
        if fd is not None:
            try:
                if self.fsync and self._pid == os.getpid():
                    os.fsync(fd)
            finally:
                os.close(fd)  # after a fork this closes only our copy; the parent's stays open

    def _open_file(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        pid = os.getpid()
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        for _ in range(100):
            with _SERIAL_LOCK:
                serial = next(_SERIAL)
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
            name = f"{self.prefix}-{stamp}-{serial:05d}-{pid}.warc.gz"
            try:
                fd = os.open(self.root / name, flags, 0o644)
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 100 collisions of timestamp, serial and pid
            raise ArchiveError(f"could not create a new WARC file in {self.root}")
        self._fd, self._pid, self._name, self._size, self._records = fd, pid, name, 0, 0
        fields = {
            "software": f"Patuh/{_dist_version('patuh')} (warcio/{_dist_version('warcio')})",
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "isPartOf": self.prefix,
            "description": "Patuh evidence archive: pages of public-service websites as fetched",
            "robots": "obey",
        }
        fields.update({re.sub(r"[\r\n:]", " ", k): re.sub(r"[\r\n]", " ", v) for k, v in self.info.items()})
        record = self._writer.create_warcinfo_record(name, fields)
        self._warcinfo_id = record.rec_headers.get_header("WARC-Record-ID")
        record.rec_headers.add_header("WARC-Block-Digest", _b32(hashlib.sha256(record.raw_stream.getvalue()).digest()))
        try:
            self._append(self._gzip(self._serialise(record)))
            if self.fsync:
                dir_fd = os.open(self.root, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except BaseException:
            self._close_file()
            raise

    # ----------------------------------------------------------------- low level

    def _serialise(self, record: Any) -> bytes:
        buf = io.BytesIO()
        self._writer.out = buf
        self._writer.write_record(record)
        return buf.getvalue()

    def _gzip(self, data: bytes) -> bytes:
        comp = _deflate.compressobj(min(self.compresslevel, _MAX_LEVEL), _deflate.DEFLATED, _deflate.MAX_WBITS + 16)
        return comp.compress(data) + comp.flush()

    def _append(self, data: bytes) -> int:
        """Write ``data`` at the end of the current file; return the offset where it starts."""
        assert self._fd is not None
        offset = self._size
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        if self.fsync:
            os.fsync(self._fd)
        self._size += len(data)
        return offset

    def _record(
        self,
        rec_type: str,
        url: str,
        date: str,
        head: bytes,
        payload: bytes,
        extra: list[tuple[str, str]],
        rid: str,
        content_type: str | None = None,
    ) -> bytes:
        """One complete WARC record, gzip-compressed as one member (``head``: the HTTP head, or b"")."""
        headers = StatusAndHeaders("", [], protocol=WARC_VERSION)
        headers.add_header("WARC-Type", rec_type)
        headers.add_header("WARC-Record-ID", rid)
        headers.add_header("WARC-Date", date)
        headers.add_header("WARC-Target-URI", url)
        if self._warcinfo_id:
            headers.add_header("WARC-Warcinfo-ID", self._warcinfo_id)
        for name, value in extra:
            headers.add_header(name, value)
        if content_type is None:
            content_type = f"application/http; msgtype={'request' if rec_type == 'request' else 'response'}"
        record = ArcWarcRecord(
            "warc", rec_type, headers, io.BytesIO(payload), _RawHttpHeaders(head) if head else None,
            content_type, len(head) + len(payload),
        )
        record.payload_length = len(payload)
        return self._gzip(self._serialise(record))

    def _write(self, build: Callable[[], list[_Part]]) -> list[RecordRef]:
        """Build records and append them, together, to the current (or a new) file."""
        with self._lock:
            if self._fd is not None and self._pid != os.getpid():
                self._close_file()  # forked from a writer: never write into the parent's file
            if self._fd is None:
                self._open_file()
            parts = build()
            total = sum(len(p[0]) for p in parts)
            if self._records and self._size + total > self.max_file_bytes:
                self._close_file()
                self._open_file()
                parts = build()  # again: the records name the new file's warcinfo
            name = self._name
            assert name is not None
            try:
                offset = self._append(b"".join(p[0] for p in parts))
            except BaseException:  # e.g. disk full after a partial write: never append after it
                self._close_file()
                raise
            refs = []
            for data, rid, when in parts:
                refs.append(RecordRef(name, offset, len(data), rid, when))
                offset += len(data)
            self._records += len(parts)
            return refs

    # ----------------------------------------------------------------- writing

    def write_response(
        self,
        url: str,
        status: int,
        reason: str | bytes,
        headers: Iterable[Header],
        body: bytes,
        fetched_at: datetime,
        request_headers: Iterable[Header] | None = None,
        *,
        method: str = "GET",
        ip_address: str | IPAddress | None = None,
        truncated: str | None = None,
    ) -> RecordRef:
        """Archive one HTTP response (and its request, when ``request_headers`` is given).

        ``body`` is the payload as the crawler holds it (already decoded; see the module text for
        what happens to ``Content-Encoding``/``Content-Length``). ``reason`` may be empty (the
        standard phrase is written). ``truncated`` (``"length"``, ``"time"``, ``"disconnect"``,
        ``"unspecified"``) marks a body the crawler cut short. Returns the ref of the response
        record; the request record, if any, follows it in the same file.
        """
        target = _check_url(url)
        date = warc_date(fetched_at)
        if truncated is not None and truncated not in TRUNCATED_REASONS:
            raise ValueError(f"truncated must be one of {sorted(TRUNCATED_REASONS)}")
        if not isinstance(body, bytes | bytearray | memoryview):
            raise TypeError("body must be bytes")
        payload = bytes(body)
        ip = str(ipaddress.ip_address(ip_address)) if ip_address else None
        head = _http_head(_status_line(status, reason), list(headers), body_len=len(payload))
        body_hash = hashlib.sha256(payload)
        block_hash = hashlib.sha256(head)
        block_hash.update(payload)
        resp_id = _new_id()
        extra = [
            ("WARC-Payload-Digest", _b32(body_hash.digest())),
            ("WARC-Block-Digest", _b32(block_hash.digest())),
            (PATUH_SHA256, body_hash.hexdigest()),
        ]
        if ip:
            extra.append(("WARC-IP-Address", ip))
        if truncated:
            extra.append(("WARC-Truncated", truncated))
        req_head = None
        if request_headers is not None:
            req_head = _http_head(_request_line(method, target), list(request_headers), body_len=None)
        when: datetime | None = fetched_at.astimezone(UTC)  # what parse_warc_date(date) gives, unparsed

        def build() -> list[_Part]:
            parts = [(self._record("response", target, date, head, payload, extra, resp_id), resp_id, when)]
            if req_head is not None:
                req_id = _new_id()
                req_extra = [
                    ("WARC-Concurrent-To", resp_id),
                    ("WARC-Payload-Digest", _b32(hashlib.sha256(b"").digest())),
                    ("WARC-Block-Digest", _b32(hashlib.sha256(req_head).digest())),
                ]
                if ip:
                    req_extra.append(("WARC-IP-Address", ip))
                parts.append((self._record("request", target, date, req_head, b"", req_extra, req_id), req_id, when))
            return parts

        return self._write(build)[0]

    def write_revisit(
        self,
        url: str,
        fetched_at: datetime,
        refers_to: RecordRef | str,
        payload_sha256_hex: str,
        status: int = 200,
        headers: Iterable[Header] = (),
        *,
        reason: str | bytes = "",
        ip_address: str | IPAddress | None = None,
    ) -> RecordRef:
        """Archive a fetch whose body is already archived at ``refers_to``.

        ``status`` 304 writes the server-not-modified profile, any other the
        identical-payload-digest one. ``refers_to`` may itself be a revisit: the new record then
        points at the response it resolves to. The original must be readable and its body's
        SHA-256 must be ``payload_sha256_hex`` (``ArchiveError`` otherwise): a revisit never
        claims a body the archive does not hold.
        """
        target = _check_url(url)
        date = warc_date(fetched_at)
        digest = sha256_warc_digest(payload_sha256_hex)
        payload_hex = payload_sha256_hex.lower()
        ip = str(ipaddress.ip_address(ip_address)) if ip_address else None
        start = RecordRef.parse(refers_to) if isinstance(refers_to, str) else refers_to
        original = self._original_head(start)
        if original.sha256 != payload_hex:
            raise ArchiveError(f"revisit of {original.ref}: its body has SHA-256 {original.sha256}, not {payload_hex}")
        head = _http_head(_status_line(status, reason), list(headers), body_len=None)
        rec_id = _new_id()
        extra = [
            ("WARC-Profile", PROFILE_NOT_MODIFIED if status == 304 else PROFILE_IDENTICAL),
            ("WARC-Refers-To", original.record_id),
            ("WARC-Refers-To-Target-URI", original.url),
            ("WARC-Refers-To-Date", warc_date(original.date) if original.date else ""),
            ("WARC-Payload-Digest", digest),
            ("WARC-Block-Digest", _b32(hashlib.sha256(head).digest())),
            (PATUH_SHA256, payload_hex),
            (PATUH_REFERS_TO_REF, str(original.ref)),
        ]
        extra = [(k, v) for k, v in extra if v]
        if ip:
            extra.append(("WARC-IP-Address", ip))
        when: datetime | None = fetched_at.astimezone(UTC)

        def build() -> list[_Part]:
            return [(self._record("revisit", target, date, head, b"", extra, rec_id), rec_id, when)]

        return self._write(build)[0]

    def write_resource(
        self,
        url: str,
        content_type: str,
        data: bytes,
        fetched_at: datetime,
        *,
        record_type: str = "resource",
        refers_to: RecordRef | str | None = None,
    ) -> RecordRef:
        """Archive bytes that are not an HTTP response: a screenshot, a rendered DOM, notes.

        ``record_type`` is ``"resource"`` (e.g. a screenshot of ``url``), ``"conversion"`` (e.g. the
        DOM after rendering: derived from the response at ``refers_to``) or ``"metadata"``.
        ``refers_to``, when given, must be readable; the record then carries ``WARC-Refers-To``
        and ``WARC-Patuh-Refers-To-Ref``.
        """
        if record_type not in RESOURCE_TYPES:
            raise ValueError(f"record_type must be one of {sorted(RESOURCE_TYPES)}")
        target = _check_url(url)
        date = warc_date(fetched_at)
        ctype = _one_line(_to_bytes(content_type)).decode("latin-1").strip() or "application/octet-stream"
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError("data must be bytes")
        payload = bytes(data)
        digest = hashlib.sha256(payload)
        extra = [
            ("WARC-Payload-Digest", _b32(digest.digest())),
            ("WARC-Block-Digest", _b32(digest.digest())),
            (PATUH_SHA256, digest.hexdigest()),
        ]
        if refers_to is not None:
            ref = RecordRef.parse(refers_to) if isinstance(refers_to, str) else refers_to
            rid = ref.record_id or self._read_one(ref).record_id  # a writer's ref knows its id already
            extra += [("WARC-Refers-To", rid), (PATUH_REFERS_TO_REF, str(ref))]
        rec_id = _new_id()
        when: datetime | None = fetched_at.astimezone(UTC)

        def build() -> list[_Part]:
            return [(self._record(record_type, target, date, b"", payload, extra, rec_id, ctype), rec_id, when)]

        return self._write(build)[0]

    # ----------------------------------------------------------------- reading

    def path_of(self, ref: RecordRef | str) -> Path:
        """The file that holds ``ref``, inside ``root`` (the name is validated, never trusted)."""
        return self.root / (RecordRef.parse(ref) if isinstance(ref, str) else ref).file

    def read_record(self, ref: RecordRef | str, resolve: bool = False) -> ArchivedRecord:
        """The record at ``ref``; with ``resolve``, a revisit carries its original's payload.

        Raises ``ArchiveError`` when the file is missing, the record damaged, or a body does not
        match the SHA-256 recorded with it; ``ValueError`` for a malformed ref string.
        """
        rec = self._read_one(RecordRef.parse(ref) if isinstance(ref, str) else ref)
        if resolve and rec.type == "revisit":
            original = self._original_response(rec.ref, start=rec)
            if original.sha256 != rec.sha256:
                raise ArchiveError(f"revisit {rec.ref} claims SHA-256 {rec.sha256}; its original has {original.sha256}")
            rec.body, rec.original = original.body, original
        return rec

    def extract(self, ref: RecordRef | str, dest: Path | str, *, overwrite: bool = False) -> ArchivedRecord:
        """Write the archived body of ``ref`` (revisits resolved) to ``dest``; return the record.

        ``dest`` is created exclusively (``FileExistsError``) unless ``overwrite``.
        """
        rec = self.read_record(ref, resolve=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
        with os.fdopen(os.open(dest, flags, 0o644), "wb") as out:
            out.write(rec.body)
        return rec

    def _original_response(self, ref: RecordRef, start: ArchivedRecord | None = None) -> ArchivedRecord:
        """The response record that ``ref`` is, or that its chain of revisits leads to."""
        rec = start if start is not None else self._read_one(ref)
        for _ in range(_MAX_REVISIT_CHAIN):
            if rec.type == "response":
                return rec
            if rec.type != "revisit":
                raise ArchiveError(f"{rec.ref} is a {rec.type!r} record, not a response")
            rec = self._read_one(rec.refers_to) if rec.refers_to else self._find_by_id(rec)
        raise ArchiveError(f"revisit chain from {ref} longer than {_MAX_REVISIT_CHAIN}")

    def _original_head(self, ref: RecordRef) -> ArchivedRecord:
        """The original response of ``ref`` as ``_original_response`` finds it, from the records'
        WARC headers alone (no body: ``body`` is empty and ``sha256`` is the one the original
        records). A nightly re-sweep writes a revisit for every unchanged page, and reading each
        original's body back to hash it again cost more than the rest of the revisit; the body
        was hashed when it was written, and ``read_record`` still checks it on every read."""
        for _ in range(_MAX_REVISIT_CHAIN):
            rec = self._read_head(ref)
            if rec is None:  # not a record as this module writes it: read it the thorough way
                return self._original_response(ref)
            if rec.type == "response":
                return rec
            if rec.type != "revisit":
                raise ArchiveError(f"{rec.ref} is a {rec.type!r} record, not a response")
            if rec.refers_to is None:
                return self._original_response(ref)
            ref = rec.refers_to
        raise ArchiveError(f"revisit chain from {ref} longer than {_MAX_REVISIT_CHAIN}")

    def _read_head(self, ref: RecordRef) -> ArchivedRecord | None:
        """The record at ``ref`` with its WARC headers only, or None when it is not one gzip member
        whose headers (and recorded SHA-256) come first, as this module writes them."""
        if not ref.file.endswith(".gz"):
            return None
        path = self.root / ref.file
        size = min(ref.length, _HEAD_READ) if ref.length is not None else _HEAD_READ
        try:
            with open(path, "rb") as fh:
                fh.seek(ref.offset)
                raw = fh.read(size)
            inflate = zlib.decompressobj(31)
            head = inflate.decompress(raw, _HEAD_FIRST)  # the headers are at its start: inflate no more
            end = head.find(b"\r\n\r\n")
            if end < 0:
                head += inflate.decompress(inflate.unconsumed_tail, _HEAD_MAX - len(head))
                end = head.find(b"\r\n\r\n")
        except FileNotFoundError:
            raise ArchiveError(f"archive file missing: {path}") from None
        except (OSError, zlib.error):
            return None
        if end < 0 or not head.startswith(b"WARC/"):
            return None
        fields: dict[str, str] = {}
        pairs: list[tuple[str, str]] = []
        for line in head[:end].decode("utf-8", "replace").split("\r\n")[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                return None
            pairs.append((name.strip(), value.strip()))
            fields.setdefault(name.strip().lower(), value.strip())
        rec_type = fields.get("warc-type", "")
        sha = fields.get(PATUH_SHA256.lower(), "").lower()
        if not _HEX64_RE.match(sha) or "content-length" not in fields:
            return None
        refers: RecordRef | None = None
        if raw_ref := fields.get(PATUH_REFERS_TO_REF.lower()):
            try:
                refers = RecordRef.parse(raw_ref)
            except ValueError:
                return None
        rid = fields.get("warc-record-id", "")
        date = parse_warc_date(fields.get("warc-date"))
        return ArchivedRecord(
            ref=RecordRef(ref.file, ref.offset, ref.length, rid or None, date), type=rec_type,
            url=fields.get("warc-target-uri", ""), date=date, record_id=rid, status=None, reason="", headers=[],
            body=b"", sha256=sha, payload_digest=fields.get("warc-payload-digest"), warc_headers=pairs,
            refers_to=refers)

    def _find_by_id(self, revisit: ArchivedRecord) -> ArchivedRecord:
        """Scan the archive for the original of a revisit that has no Patuh ref (slow)."""
        record_id = revisit.warc_header("WARC-Refers-To")
        if not record_id:
            raise ArchiveError(f"revisit {revisit.ref} names no original (WARC-Refers-To)")
        for path in sorted(self.root.glob("*.warc.gz")):
            for ref, _, _, rid in iter_file(path):
                if rid == record_id:
                    return self._read_one(ref)
        raise ArchiveError(f"original {record_id} of revisit {revisit.ref} is not in {self.root}")

    def _read_one(self, ref: RecordRef) -> ArchivedRecord:
        path = self.root / ref.file
        try:
            with open(path, "rb") as fh:
                fh.seek(ref.offset)
                stream: Any = io.BytesIO(fh.read(ref.length)) if ref.length is not None else fh
                record = next(iter(ArchiveIterator(stream)), None)
                if record is None:
                    raise ArchiveError(f"no record at {ref}")
                body = record.raw_stream.read()
                declared = record.length
        except FileNotFoundError:
            raise ArchiveError(f"archive file missing: {path}") from None
        except _READ_ERRORS as exc:
            raise ArchiveError(f"cannot read {ref}: {type(exc).__name__}: {exc}") from None
        if declared is None:  # Content-Length is mandatory: without it the headers were cut short
            raise ArchiveError(f"{ref}: record truncated (no Content-Length)")
        expected = record.payload_length if record.http_headers is not None else declared
        if expected >= 0 and len(body) != expected:
            raise ArchiveError(f"{ref}: record truncated ({len(body)} of {expected} payload bytes)")
        if record.rec_type in ("response", "request") and record.http_headers is None:
            raise ArchiveError(f"{ref}: {record.rec_type} record without HTTP headers")
        return _to_archived(ref, record, body)


def _to_archived(ref: RecordRef, record: Any, body: bytes) -> ArchivedRecord:
    """An ``ArchivedRecord`` from a warcio record whose payload was read into ``body``."""
    wh = record.rec_headers
    rec_type = wh.get_header("WARC-Type") or ""
    status: int | None = None
    reason = ""
    headers: list[tuple[str, str]] = []
    http = record.http_headers
    if http is not None:
        headers = list(http.headers)
        if rec_type in ("response", "revisit"):
            code, _, reason = (http.statusline or "").partition(" ")
            status = int(code) if code.isdigit() else None
        else:
            reason = f"{http.protocol} {http.statusline}".strip()
    payload_digest = wh.get_header("WARC-Payload-Digest")
    claimed = (wh.get_header(PATUH_SHA256) or "").strip().lower() or hex_from_warc_digest(payload_digest)
    if rec_type == "revisit":
        sha = claimed or ""
    else:
        sha = hashlib.sha256(body).hexdigest()
        if claimed and claimed != sha:
            raise ArchiveError(f"{ref}: body SHA-256 {sha} does not match the recorded {claimed}")
    refers: RecordRef | None = None
    raw_ref = wh.get_header(PATUH_REFERS_TO_REF)
    if raw_ref:
        try:
            refers = RecordRef.parse(raw_ref)
        except ValueError:
            log.warning("%s: ignoring a malformed %s", ref, PATUH_REFERS_TO_REF)
    rid = wh.get_header("WARC-Record-ID") or ""
    date = parse_warc_date(wh.get_header("WARC-Date"))
    return ArchivedRecord(
        ref=RecordRef(ref.file, ref.offset, ref.length, rid or None, date),
        type=rec_type, url=wh.get_header("WARC-Target-URI") or "", date=date, record_id=rid,
        status=status, reason=reason, headers=headers, body=body, sha256=sha,
        payload_digest=payload_digest, warc_headers=list(wh.headers), refers_to=refers,
    )


def iter_file(path: Path | str) -> Iterator[tuple[RecordRef, str, str, str]]:
    """``(ref, WARC-Type, target URI, record id)`` for every complete record of one file, in order.

    Stops, with a warning, at a damaged or truncated tail (what a crash mid-write leaves).
    """
    path = Path(path)
    last = "the start"
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh, no_record_parse=True)
        try:
            for record in it:
                h = record.rec_headers
                length_field = (h.get_header("Content-Length") or "").strip()
                if not length_field.isdigit():  # mandatory: its absence means the headers were cut
                    raise EOFError(f"record without a Content-Length ({length_field[:20]!r})")
                declared = int(length_field)
                got = 0
                while chunk := record.raw_stream.read(1 << 16):
                    got += len(chunk)
                if got != declared:
                    raise EOFError(f"record has {got} of {declared} bytes")
                rid = h.get_header("WARC-Record-ID") or ""
                offset, length = it.get_record_offset(), it.get_record_length()
                when = parse_warc_date(h.get_header("WARC-Date"))
                ref = RecordRef(path.name, offset, length or None, rid or None, when)
                last = rid or f"offset {offset}"
                yield ref, h.get_header("WARC-Type") or "", h.get_header("WARC-Target-URI") or "", rid
        except _READ_ERRORS as exc:
            log.warning("%s: stopped at a damaged or truncated record after %s (%s)", path, last, exc)


def read_record(ref: RecordRef | str, root: Path | str = DEFAULT_ROOT, resolve: bool = False) -> ArchivedRecord:
    """``WarcArchive(root).read_record(ref, resolve)``, for readers that write nothing."""
    return WarcArchive(root).read_record(ref, resolve=resolve)


__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "DEFAULT_ROOT",
    "MAX_URL_BYTES",
    "PATUH_REFERS_TO_REF",
    "PATUH_SHA256",
    "PROFILE_IDENTICAL",
    "PROFILE_NOT_MODIFIED",
    "RESOURCE_TYPES",
    "ArchiveError",
    "ArchivedRecord",
    "Header",
    "IPAddress",
    "RecordRef",
    "WarcArchive",
    "hex_from_warc_digest",
    "iter_file",
    "parse_warc_date",
    "read_record",
    "sha256_warc_digest",
    "warc_date",
]
