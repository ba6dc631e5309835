"""Tests of storage/archive.py: the WARC evidence archive.

Records written are read back by ref (bytes and digests compared), the files are opened by
warcio's own tools (``warcio check``/``index`` and ``ArchiveIterator``), and the failure modes
are simulated: a truncated tail, a ``kill -9`` right after writes, two processes, a fork, threads.
"""

import gzip
import hashlib
import ipaddress
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from storage.archive import (
    PROFILE_IDENTICAL,
    PROFILE_NOT_MODIFIED,
    ArchiveError,
    Header,
    RecordRef,
    WarcArchive,
    hex_from_warc_digest,
    iter_file,
    read_record,
    sha256_warc_digest,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
WARCIO = Path(sys.executable).parent / "warcio"
WHEN = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
NAME_RE = re.compile(r"^patuh-\d{20}-\d{5}-\d+\.warc\.gz$")

HTML = ("<!doctype html><html><head><meta charset='utf-8'><title>Standar Pelayanan</title></head>"
        "<body><h1>Maklumat Pelayanan</h1><p>Persyaratan, prosedur, biaya: Rp 0 — gratis</p></body></html>"
        ).encode()
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 40 + b"\n\x00\r\n\r\n%%EOF\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def records_of(path: Path) -> list[tuple[str, str, str]]:
    """(type, target URI, record id) of every record, by warcio's plain ArchiveIterator."""
    with open(path, "rb") as fh:
        return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI") or "",
                 r.rec_headers.get_header("WARC-Record-ID")) for r in ArchiveIterator(fh)]


def run_warcio(*args: str) -> subprocess.CompletedProcess[str]:
    if not WARCIO.exists():
        pytest.skip(f"warcio script not found at {WARCIO}")
    return subprocess.run([str(WARCIO), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def arc(tmp_path: Path) -> Iterator[WarcArchive]:
    with WarcArchive(tmp_path / "archive") as a:
        yield a


# --------------------------------------------------------------------------- round trips


def test_responses_read_back_byte_for_byte(arc: WarcArchive) -> None:
    cases: list[tuple[str, int, str, list[Header], bytes]] = [
        ("https://dinkes.example.go.id/standar-pelayanan", 200, "OK",
         [("Content-Type", "text/html; charset=utf-8"), ("Server", "nginx")], HTML),
        ("https://dinkes.example.go.id/files/sp.pdf", 200, "", [("Content-Type", "application/pdf")], PDF),
        ("https://dinkes.example.go.id/kosong", 204, "", [], b""),
        ("https://dinkes.example.go.id/aneh", 200, "OK",
         [("Content-Type", "text/plain"), ("X-Latin", b"caf\xe9 \xff"), ("X-Snow", "\u2603 salju"),
          ("X-Inject", "a\r\nSet-Cookie: evil=1\r\n\r\nbody"), (b"X-Raw\xe9", b"\x00\x01\x7f")], b"weird"),
    ]
    refs = [arc.write_response(url, st, reason, headers, body, WHEN) for url, st, reason, headers, body in cases]
    arc.close()
    for ref, (url, st, _, _, body) in zip(refs, cases, strict=True):
        assert NAME_RE.match(ref.file)
        assert ref.record_id and ref.date == WHEN and ref.length
        rec = arc.read_record(RecordRef.parse(str(ref)))
        assert rec.type == "response" and rec.url == url and rec.status == st
        assert rec.body == body
        assert rec.sha256 == sha(body)
        assert rec.warc_header("WARC-Patuh-SHA256") == sha(body)
        assert rec.payload_digest == sha256_warc_digest(sha(body))
        assert hex_from_warc_digest(rec.payload_digest) == sha(body)
        assert rec.date == WHEN and rec.record_id == ref.record_id
        assert rec.header("Content-Length") == str(len(body))
    html, pdf, empty, weird = (arc.read_record(r) for r in refs)
    assert html.reason == "OK" and html.header("content-type") == "text/html; charset=utf-8"
    assert pdf.reason == "OK"  # the standard phrase when none was given
    assert empty.reason == "No Content" and empty.body == b""
    assert weird.header("X-Latin") == "caf\xe9 \xff"  # raw bytes kept; read back as latin-1
    assert weird.header("X-Snow") == "\u2603 salju"
    assert weird.header("Set-Cookie") is None  # no header injection
    assert weird.header("X-Inject") == "a Set-Cookie: evil=1  body"
    assert any(k.startswith("X-Raw") for k, _ in weird.headers)


def test_warc_date_is_fetched_at_in_utc(arc: WarcArchive) -> None:
    wib = timezone(timedelta(hours=7))
    ref = arc.write_response("http://a.example/", 200, "OK", [], b"x", datetime(2025, 1, 1, 7, 0, 0, tzinfo=wib))
    rec = arc.read_record(ref)
    assert rec.warc_header("WARC-Date") == "2025-01-01T00:00:00Z"
    assert rec.date == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        arc.write_response("http://a.example/", 200, "OK", [], b"x", datetime(2025, 1, 1))


def test_decoded_bodies_get_true_length_and_original_encoding_headers(arc: WarcArchive) -> None:
    headers = [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked"), ("Content-Length", "12")]
    rec = arc.read_record(arc.write_response("http://a.example/", 200, "OK", headers, HTML, WHEN))
    assert rec.header("Content-Encoding") is None and rec.header("Transfer-Encoding") is None
    assert rec.header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert rec.header("X-Archive-Orig-Transfer-Encoding") == "chunked"
    assert rec.header("X-Archive-Orig-Content-Length") == "12"
    assert rec.header("Content-Length") == str(len(HTML))
    assert rec.body == HTML


def test_request_record_is_concurrent_to_its_response(arc: WarcArchive) -> None:
    ref = arc.write_response("https://a.example/p?q=1", 200, "OK", [("Content-Type", "text/html")], HTML, WHEN,
                             request_headers=[("User-Agent", "Patuh"), ("Accept", "*/*")], ip_address="127.0.0.1")
    path = arc.path_of(ref)
    arc.close()
    with open(path, "rb") as fh:
        recs = [(r.rec_type, r.rec_headers, r.http_headers) for r in ArchiveIterator(fh)]
    assert [t for t, _, _ in recs] == ["warcinfo", "response", "request"]
    _, resp_h, _ = recs[1]
    _, req_h, req_http = recs[2]
    assert req_h.get_header("WARC-Concurrent-To") == resp_h.get_header("WARC-Record-ID") == ref.record_id
    assert req_h.get_header("WARC-Target-URI") == "https://a.example/p?q=1"
    assert req_h.get_header("WARC-IP-Address") == resp_h.get_header("WARC-IP-Address") == "127.0.0.1"
    assert req_http.protocol == "GET" and req_http.statusline == "/p?q=1 HTTP/1.1"
    assert req_http.get_header("User-Agent") == "Patuh"


def test_warcinfo_starts_every_file(arc: WarcArchive) -> None:
    ref = arc.write_response("http://a.example/", 200, "OK", [], b"x", WHEN)
    rec = arc.read_record(RecordRef(ref.file, 0))
    assert rec.type == "warcinfo"
    assert rec.warc_header("WARC-Filename") == ref.file
    fields = rec.body.decode()
    assert "software: Patuh/" in fields and "format: WARC File Format 1.1" in fields
    assert arc.read_record(ref).warc_header("WARC-Warcinfo-ID") == rec.record_id


# --------------------------------------------------------------------------- revisits


def test_revisits_point_at_and_resolve_to_the_original(arc: WarcArchive) -> None:
    first = arc.write_response("https://a.example/sp", 200, "OK", [("ETag", '"v1"')], HTML, WHEN)
    later = WHEN + timedelta(days=1)
    same = arc.write_revisit("https://a.example/sp", later, first, sha(HTML), 200, [("ETag", '"v1"')])
    moved = arc.write_revisit("https://a.example/sp-baru", later, str(same), sha(HTML))  # a revisit of a revisit
    not_modified = arc.write_revisit("https://a.example/sp", later, first, sha(HTML), 304, [("ETag", '"v1"')])

    for ref, profile, status in ((same, PROFILE_IDENTICAL, 200), (moved, PROFILE_IDENTICAL, 200),
                                 (not_modified, PROFILE_NOT_MODIFIED, 304)):
        rec = arc.read_record(ref)
        assert rec.type == "revisit" and rec.status == status and rec.body == b""
        assert rec.warc_header("WARC-Profile") == profile
        assert rec.warc_header("WARC-Refers-To") == first.record_id
        assert rec.warc_header("WARC-Refers-To-Target-URI") == "https://a.example/sp"
        assert rec.warc_header("WARC-Refers-To-Date") == "2025-03-04T05:06:07.123456Z"
        assert rec.warc_header("WARC-Payload-Digest") == sha256_warc_digest(sha(HTML))
        assert rec.sha256 == sha(HTML) and rec.refers_to == first
        assert rec.date == later
        resolved = arc.read_record(ref, resolve=True)
        assert resolved.body == HTML and resolved.original is not None
        assert resolved.original.ref == first and resolved.original.type == "response"
    assert arc.read_record(moved).url == "https://a.example/sp-baru"
    assert arc.read_record(not_modified).header("ETag") == '"v1"'


def test_revisit_refuses_a_body_the_archive_does_not_hold(arc: WarcArchive) -> None:
    first = arc.write_response("https://a.example/sp", 200, "OK", [], HTML, WHEN)
    with pytest.raises(ArchiveError, match="SHA-256"):
        arc.write_revisit("https://a.example/sp", WHEN, first, sha(b"other"))
    with pytest.raises(ArchiveError, match="missing"):
        arc.write_revisit("https://a.example/sp", WHEN, RecordRef("patuh-nope.warc.gz", 0), sha(HTML))
    with pytest.raises(ValueError):
        arc.write_revisit("https://a.example/sp", WHEN, first, "not-hex")


def test_revisit_of_a_revisit_still_needs_the_original(arc: WarcArchive) -> None:
    """Revisits are checked against their original's recorded headers, not the revisit in between:
    a chain whose original is gone is refused."""
    first = arc.write_response("https://a.example/sp", 200, "OK", [], HTML, WHEN)
    arc.close()
    second = WarcArchive(arc.root)
    rev = second.write_revisit("https://a.example/sp", WHEN, first, sha(HTML), 304)
    second.close()
    (arc.root / first.file).unlink()
    with pytest.raises(ArchiveError, match="missing"):
        WarcArchive(arc.root).write_revisit("https://a.example/sp", WHEN, rev, sha(HTML), 304)


@pytest.mark.parametrize("header_bytes", [0, 3_000, 20_000, 200_000])
def test_revisit_of_a_response_with_long_headers(arc: WarcArchive, header_bytes: int) -> None:
    """The original's WARC headers are found however far its HTTP headers reach (they follow them)."""
    headers: list[Header] = [(f"X-Long-{i}", "v" * 90) for i in range(header_bytes // 100)]
    first = arc.write_response("https://a.example/sp", 200, "OK", headers, HTML, WHEN)
    rev = arc.write_revisit("https://a.example/sp", WHEN, first, sha(HTML), 304)
    assert arc.read_record(rev, resolve=True).body == HTML
    with pytest.raises(ArchiveError, match="SHA-256"):
        arc.write_revisit("https://a.example/sp", WHEN, first, sha(b"other"), 304)


def test_extract_writes_the_archived_body(arc: WarcArchive, tmp_path: Path) -> None:
    first = arc.write_response("https://a.example/sp.pdf", 200, "OK", [], PDF, WHEN)
    rev = arc.write_revisit("https://a.example/sp.pdf", WHEN, first, sha(PDF), 304)
    out = tmp_path / "out.pdf"
    rec = arc.extract(str(rev), out)
    assert out.read_bytes() == PDF and rec.sha256 == sha(PDF)
    with pytest.raises(FileExistsError):
        arc.extract(first, out)
    arc.extract(first, out, overwrite=True)
    assert read_record(str(first), root=arc.root).body == PDF


# --------------------------------------------------------------------------- refs and bounds


def test_ref_string_round_trip_and_refusals() -> None:
    ref = RecordRef("patuh-20250101000000000000-00001-42.warc.gz", 12345, 678, "<urn:uuid:x>", WHEN)
    assert str(ref) == "patuh-20250101000000000000-00001-42.warc.gz#12345+678"
    assert RecordRef.parse(str(ref)) == ref
    assert str(RecordRef.parse("patuh-a.warc.gz#12345")) == "patuh-a.warc.gz#12345"
    for bad in ("../etc/passwd.warc.gz#0", "a/b.warc.gz#1", "/abs.warc.gz#1", "x.txt#1", "x.warc.gz",
                "x.warc.gz#-1", "x.warc.gz#1+0", "..warc.gz#1", "", "x.warc.gz#1#2"):
        with pytest.raises(ValueError):
            RecordRef.parse(bad)


def test_bounds_and_hostile_urls(arc: WarcArchive) -> None:
    with pytest.raises(ValueError, match="longer"):
        arc.write_response("http://a.example/" + "a" * (64 * 1024), 200, "OK", [], b"", WHEN)
    with pytest.raises(ValueError):
        arc.write_response("http://a.example/", 42, "OK", [], b"", WHEN)
    with pytest.raises(ValueError):
        arc.write_response("", 200, "OK", [], b"", WHEN)
    ref = arc.write_response("http://a.example/a b\r\nWARC-Type: x", 200, "OK\r\nX: y", [], b"ok", WHEN)
    rec = arc.read_record(ref)
    assert rec.url == "http://a.example/a%20b%0D%0AWARC-Type:%20x"
    assert rec.type == "response" and rec.reason == "OK X: y" and rec.header("X") is None
    long_ok = "http://a.example/" + "b" * 60_000
    assert arc.read_record(arc.write_response(long_ok, 200, "OK", [], b"", WHEN)).url == long_ok


def test_reading_damage_is_an_archive_error(arc: WarcArchive) -> None:
    ref = arc.write_response("http://a.example/", 200, "OK", [], HTML, WHEN)
    arc.close()
    with pytest.raises(ArchiveError):
        arc.read_record(RecordRef(ref.file, ref.offset + 1))  # not at a record boundary
    with pytest.raises(ArchiveError, match="missing"):
        arc.read_record("patuh-absent.warc.gz#0")
    # a record whose body no longer matches the SHA-256 stored with it
    path = arc.path_of(ref)
    raw = path.read_bytes()
    member = raw[ref.offset : ref.offset + (ref.length or 0)]
    plain = gzip.decompress(member).replace(sha(HTML).encode(), sha(b"x").encode())
    path.write_bytes(raw[: ref.offset] + gzip.compress(plain))
    with pytest.raises(ArchiveError, match="does not match"):
        arc.read_record(RecordRef(ref.file, ref.offset))


# --------------------------------------------------------------------------- files and tools


def test_rotation_at_small_max_file_bytes(tmp_path: Path) -> None:
    root = tmp_path / "rot"
    bodies = [os.urandom(1500) for _ in range(20)]
    with WarcArchive(root, max_file_bytes=4096) as arc:
        refs = [arc.write_response(f"http://a.example/{i}", 200, "OK", [], b, WHEN) for i, b in enumerate(bodies)]
    files = sorted(root.iterdir())
    assert len(files) >= 5 and len({r.file for r in refs}) == len(files)
    for path in files:
        assert NAME_RE.match(path.name)
        recs = records_of(path)
        assert recs[0][0] == "warcinfo" and all(t == "response" for t, _, _ in recs[1:]) and len(recs) >= 2
        assert path.stat().st_size <= 4096 or len(recs) == 2  # only a lone oversized record goes past
    for ref, body in zip(refs, bodies, strict=True):
        assert read_record(ref, root=root).body == body


def test_files_pass_warcio_check_and_index(arc: WarcArchive) -> None:
    r1 = arc.write_response("https://a.example/", 200, "OK", [("Content-Type", "text/html")], HTML, WHEN,
                            request_headers=[("User-Agent", "Patuh")])
    r2 = arc.write_response("https://a.example/sp.pdf", 200, "OK", [("X-Odd", b"\xe9\xff")], PDF, WHEN)
    r3 = arc.write_response("https://a.example/empty", 200, "OK", [], b"", WHEN)
    r4 = arc.write_revisit("https://a.example/", WHEN, r1, sha(HTML), 304)
    path = arc.path_of(r1)
    arc.close()
    check = run_warcio("check", "-v", str(path))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 5  # warcinfo, response, request, response, response
    assert "digest present but not checked (revisit)" in check.stdout
    index = run_warcio("index", "-f", "offset,length,warc-type,warc-target-uri,http:status", str(path))
    assert index.returncode == 0, index.stderr
    rows = [json.loads(line) for line in index.stdout.splitlines()]
    assert [r["warc-type"] for r in rows] == ["warcinfo", "response", "request", "response", "response", "revisit"]
    by_offset = {int(r["offset"]): r for r in rows}
    for ref, status in ((r1, "200"), (r2, "200"), (r3, "200"), (r4, "304")):
        assert int(by_offset[ref.offset]["length"]) == ref.length
        assert by_offset[ref.offset]["http:status"] == status
    extract = subprocess.run([str(WARCIO), "extract", "--payload", str(path), str(r2.offset)],
                             capture_output=True, timeout=60)
    assert extract.returncode == 0 and extract.stdout == PDF
    assert [t for t, _, _ in records_of(path)] == [r["warc-type"] for r in rows]
    assert [(r.offset, t) for r, t, _, _ in iter_file(path)] == [(int(r["offset"]), r["warc-type"]) for r in rows]


def test_truncated_tail_leaves_earlier_records_readable(arc: WarcArchive) -> None:
    bodies = [os.urandom(3000) for _ in range(4)]
    refs = [arc.write_response(f"http://a.example/{i}", 200, "OK", [], b, WHEN) for i, b in enumerate(bodies)]
    path = arc.path_of(refs[0])
    arc.close()
    last = refs[-1]
    full = path.read_bytes()
    # a crash anywhere in the last write (short of the gzip trailer, when all its data is there)
    for cut in [*range(last.offset + 1, last.offset + 200, 3), *range(last.offset + 200, len(full) - 8, 97)]:
        path.write_bytes(full[:cut])
        listed = list(iter_file(path))
        assert [r.offset for r, _, _, _ in listed[1:]] == [r.offset for r in refs[:-1]], cut
        with pytest.raises(ArchiveError):
            arc.read_record(last)
    for ref, body in zip(refs[:-1], bodies, strict=False):
        assert arc.read_record(ref).body == body
    # a new writer never appends to the damaged file
    with WarcArchive(arc.root) as again:
        fresh = again.write_response("http://a.example/new", 200, "OK", [], b"new", WHEN)
    assert fresh.file != path.name and again.read_record(fresh).body == b"new"


_KILL_CHILD = """
import sys
from datetime import UTC, datetime
from storage.archive import WarcArchive
arc = WarcArchive(sys.argv[1])
for i in range(100000):
    ref = arc.write_response(f"http://a.example/{i}", 200, "OK", [], (b"%d " % i) * 2000, datetime.now(UTC))
    print(ref, flush=True)
"""


def test_kill_9_after_return_loses_nothing(tmp_path: Path) -> None:
    root = tmp_path / "killed"
    refs = []
    with subprocess.Popen([sys.executable, "-c", _KILL_CHILD, str(root)], cwd=REPO_ROOT,
                          stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                refs.append(line.strip())
                if len(refs) == 200:
                    break
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert len(refs) == 200
    for ref in refs:
        rec = read_record(ref, root=root)
        i = int(rec.url.rsplit("/", 1)[1])
        assert rec.body == (b"%d " % i) * 2000
    (path,) = root.iterdir()
    assert len(list(iter_file(path))) >= 201


def _writer_process(root: str, tag: str, count: int) -> list[str]:
    with WarcArchive(root, max_file_bytes=8192) as arc:
        return [str(arc.write_response(f"http://{tag}.example/{i}", 200, "OK", [], os.urandom(2000), WHEN))
                for i in range(count)]


def test_two_processes_write_one_folder_without_clobbering(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        a, b = pool.starmap(_writer_process, [(str(root), "a", 60), (str(root), "b", 60)])
    assert len(set(a) | set(b)) == 120
    seen: dict[str, int] = {"a": 0, "b": 0}
    for path in root.iterdir():
        tags = {urlparse_host(uri) for t, uri, _ in records_of(path) if t == "response"}
        assert len(tags) == 1, f"{path.name} mixes writers: {tags}"
        seen[tags.pop()] += sum(1 for t, _, _ in records_of(path) if t == "response")
    assert seen == {"a": 60, "b": 60}
    for ref in a + b:
        assert read_record(ref, root=root).status == 200


def urlparse_host(uri: str) -> str:
    return uri.split("//", 1)[1].split(".", 1)[0]


def _forked_child(arc: WarcArchive, queue: "multiprocessing.Queue[str]") -> None:
    queue.put(str(arc.write_response("http://child.example/", 200, "OK", [], b"child", WHEN)))
    arc.close()


@pytest.mark.skipif(sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods(),
                    reason="needs fork")
def test_forked_writer_opens_its_own_file(arc: WarcArchive) -> None:
    before = arc.write_response("http://parent.example/1", 200, "OK", [], b"one", WHEN)
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = ctx.Queue()
    proc = ctx.Process(target=_forked_child, args=(arc, queue))
    proc.start()
    child_ref = RecordRef.parse(queue.get(timeout=30))
    proc.join(timeout=30)
    after = arc.write_response("http://parent.example/2", 200, "OK", [], b"two", WHEN)
    assert child_ref.file != before.file and after.file == before.file
    assert f"-{proc.pid}.warc.gz" in child_ref.file
    arc.close()
    assert [arc.read_record(r).body for r in (before, child_ref, after)] == [b"one", b"child", b"two"]
    assert [t for t, _, _ in records_of(arc.path_of(before))] == ["warcinfo", "response", "response"]


def test_threads_share_one_writer(arc: WarcArchive) -> None:
    refs: list[RecordRef] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(40):
            ref = arc.write_response(f"http://t{n}.example/{i}", 200, "OK", [], b"%d-%d" % (n, i) * 100, WHEN)
            with lock:
                refs.append(ref)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    arc.close()
    assert len(refs) == 160
    for ref in refs:
        rec = arc.read_record(ref)
        n, i = urlparse_host(rec.url)[1:], rec.url.rsplit("/", 1)[1]
        assert rec.body == b"%s-%s" % (n.encode(), i.encode()) * 100
    (path,) = arc.root.iterdir()
    assert len(records_of(path)) == 161


def test_resources_for_screenshots_and_rendered_doms(arc: WarcArchive) -> None:
    page = arc.write_response("https://a.example/spa", 200, "OK", [("Content-Type", "text/html")], b"<div id=app>",
                              WHEN, ip_address=ipaddress.ip_address("::1"))
    png = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    shot = arc.write_resource("https://a.example/spa", "image/png", png, WHEN)
    dom = arc.write_resource("https://a.example/spa", "text/html; charset=utf-8", HTML, WHEN,
                             record_type="conversion", refers_to=page)
    with pytest.raises(ValueError):
        arc.write_resource("https://a.example/spa", "image/png", png, WHEN, record_type="response")
    s, d = arc.read_record(shot), arc.read_record(dom)
    assert (s.type, s.body, s.sha256, s.status) == ("resource", png, sha(png), None)
    assert s.warc_header("Content-Type") == "image/png"
    assert (d.type, d.body, d.refers_to) == ("conversion", HTML, page)
    assert d.warc_header("WARC-Refers-To") == page.record_id
    assert arc.read_record(page).warc_header("WARC-IP-Address") == "::1"
    path = arc.path_of(page)
    arc.close()
    check = run_warcio("check", "-v", str(path))
    assert check.returncode == 0 and check.stdout.count("digest pass") == 4, check.stdout


def test_revisit_written_by_another_tool_resolves_by_record_id(arc: WarcArchive) -> None:
    from warcio.warcwriter import WARCWriter

    first = arc.write_response("https://a.example/sp", 200, "OK", [], HTML, WHEN)
    foreign = arc.root / "other-tool.warc.gz"
    with open(foreign, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.1")
        rec = writer.create_revisit_record("https://a.example/sp", sha256_warc_digest(sha(HTML)),
                                           "https://a.example/sp", "2025-03-04T05:06:07.123456Z")
        rec.rec_headers.add_header("WARC-Refers-To", first.record_id)
        writer.write_record(rec)
    ((ref, rtype, _, _),) = list(iter_file(foreign))
    assert rtype == "revisit"
    resolved = arc.read_record(ref, resolve=True)
    assert resolved.body == HTML and resolved.original is not None and resolved.original.ref == first


def test_failed_write_never_leaves_a_file_to_append_to(arc: WarcArchive, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = arc.write_response("http://a.example/1", 200, "OK", [], HTML, WHEN)
    real_write = os.write
    calls = {"n": 0}

    def disk_full(fd: int, data: bytes) -> int:  # the first call writes half, the next fails
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(OSError):
        arc.write_response("http://a.example/2", 200, "OK", [], PDF, WHEN)
    monkeypatch.setattr(os, "write", real_write)
    after = arc.write_response("http://a.example/3", 200, "OK", [], b"after", WHEN)
    assert after.file != ok.file
    assert arc.read_record(ok).body == HTML and arc.read_record(after).body == b"after"
    assert [t for _, t, _, _ in iter_file(arc.path_of(ok))] == ["warcinfo", "response"]


def test_warcinfo_fields_cannot_break_lines(tmp_path: Path) -> None:
    with WarcArchive(tmp_path, info={"operator": "Ombudsman\r\nevil: 1", "http-header-user-agent": "Patuh/0.1"}) as a:
        ref = a.write_response("http://a.example/", 200, "OK", [], b"", WHEN)
    fields = a.read_record(RecordRef(ref.file, 0)).body.decode()
    assert "operator: Ombudsman  evil: 1\r\n" in fields and "\nevil" not in fields
    assert "http-header-user-agent: Patuh/0.1" in fields
