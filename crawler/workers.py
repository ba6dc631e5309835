"""CPU work off the reactor: every parse of a page, its extraction and its rules run in a worker process.

Scrapy's own work saturates one core (STACK.md); parsing and judging on that core would halve the
crawl rate. The reactor hands a response's bytes to a process pool (`crawler.pool`) and awaits one `Reading` (the
links for the frontier, the document, its page-level evidence, its archive record), so the second
core does all the reading while the first keeps fetching. With `PATUH_WORKERS=0` everything runs inline
(handy for debugging; the results are identical).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from w3lib.encoding import html_to_unicode

from checks.document import Document
from checks.extract_html import extract_html
from checks.extract_image import extract_image
from checks.extract_pdf import extract_pdf
from checks.judge import Verdict, inspect, judge, unknown_verdicts
from checks.rules.base import Hit
from crawler.pool import Inline, ProcessPool
from spiders.links import outline
from spiders.render import needs_look, precheck, render_reason


def default_workers() -> int:
    """One worker per core: the reactor leaves part of its core idle while it waits on the network,
    and with a worker on every core the scheduler fills it (2 cores: 109 -> 135 pages/s, benchmarks/)."""
    return max(1, os.cpu_count() or 2)


_archives: dict[tuple[str, int], Any] = {}  # one writer per process (file names carry the pid)


def archive_job(root: str, url: str, status: int, reason: str, headers: list[tuple[bytes, bytes]], body: bytes,
                fetched_at: datetime, rendered: bytes = b"") -> str:
    """Write one response (and a rendered page's DOM) to this process's WARC file; its record ref."""
    archive = _archive(root)
    ref = archive.write_response(url, status, reason, headers, body, fetched_at)
    if rendered:
        archive.write_resource(url, "text/html; charset=utf-8", rendered, fetched_at, record_type="conversion",
                               refers_to=ref)
    return str(ref)


def revisit_job(root: str, url: str, fetched_at: datetime, refers_to: str, sha256: str, status: int, reason: str,
                headers: list[tuple[bytes, bytes]]) -> str:
    """Write a revisit record (the body is archived at `refers_to`) to this process's WARC file; its ref.

    The original's headers are read back to check its SHA-256 (storage.archive): off the reactor, in
    the worker that reads an unchanged page's links, or in the storage writer for a 304."""
    return str(_archive(root).write_revisit(url, fetched_at, refers_to, sha256, status=status, headers=headers,
                                            reason=reason))


def _archive(root: str) -> Any:
    """This process's WARC writer under `root` (file names carry the pid)."""
    from storage.archive import WarcArchive

    key = (root, os.getpid())
    archive = _archives.get(key)
    if archive is None:
        archive = _archives[key] = WarcArchive(root)
    return archive


@dataclass(slots=True)
class Reading:
    """What a worker read in one response: links for the spider's frontier, the document, its
    page-level evidence and its archive record for storage."""

    links: list[tuple[str, str, str]] = field(default_factory=list)  # absolute URL, anchor text, region
    images: list[tuple[str, str, str]] = field(default_factory=list)  # absolute src, alt text, region
    title: str = ""
    render_reason: str | None = None  # set: the page must be rendered; nothing else was read
    document: str | None = None  # Document JSON (the page's text is its blocks': not sent twice)
    hits: list[Hit] = field(default_factory=list)
    warc_record: str | None = None
    error: str | None = None  # the document could not be read (the links may still be there)


_AUTO = ("ascii", "utf-8", "cp1252")


def decode_html(body: bytes, content_type: str, encoding: str | None = None) -> str:
    """The text of an HTML body, decoded as Scrapy's TextResponse would (header, BOM, <meta>, guess)."""
    if encoding:
        return body.decode(encoding, errors="replace")

    def guess(raw: bytes) -> str | None:
        for enc in _AUTO:
            try:
                raw.decode(enc)
            except UnicodeError:
                continue
            return enc
        return None

    try:
        return html_to_unicode(content_type, body, auto_detect_fun=guess)[1]
    except LookupError:  # an encoding name Python does not know
        return body.decode("utf-8", errors="replace")


def read_job(url: str, kind: str, body: bytes, content_type: str, sha256: str, captured_at: str,
             archive: tuple[Any, ...] | None = None, *, links: bool = True, document: bool = True,
             render_check: bool = False, encoding: str | None = None,
             revisit: tuple[Any, ...] | None = None) -> Reading:
    """Read one response: one parse gives the frontier its links and storage its document.

    `render_check`: an HTML page that needs Chromium (spiders.render) gives only its links; its
    rendered DOM is read later (and archived then). `archive`: the arguments of `archive_job`;
    `revisit`: those of `revisit_job`, for a body already archived (no document is read then).
    """
    out = Reading()
    html = ""
    pending = False  # whether the render decision waits for the document's text
    if kind in ("html", "js") and (links or document or render_check):
        html = decode_html(body, content_type, "utf-8" if kind == "js" else encoding)
        if render_check:
            check = precheck(html)
            if check == "look" or (check == "text" and not document):
                out.render_reason = render_reason(html)
            pending = check == "text" and document
    doc: Document | None = None
    if document and not out.render_reason:
        try:
            if kind == "pdf":
                doc = extract_pdf(url, body)
            elif kind == "image":
                doc = extract_image(url, body, sha256)
            else:
                doc = extract_html(url, html, kind=kind)
        except Exception as exc:  # a hostile or broken body costs its own page only
            logging.getLogger(__name__).warning("extraction failed for %s: %s", url, exc)
            out.error = f"dokumen tidak dapat dibaca: {type(exc).__name__}"
        if pending and needs_look(sum(len(b.text) for b in doc.blocks if b.region in ("main", "aside")) if doc else 0):
            out.render_reason = render_reason(html)
    if links and kind in ("html", "js"):
        # the document's own links when it was read (no second parse), else a fast lexbor outline
        if doc is not None:
            out.links, out.images, out.title = frontier_links(doc)
        else:
            page = outline(url, html)
            out.links, out.images, out.title = page.links, page.images, page.title
    if out.render_reason:  # read later as Chromium shows it (and archived then)
        out.error = None
        return out
    if not document:
        if revisit is not None:
            try:
                out.warc_record = revisit_job(*revisit)
            except Exception as exc:  # storage then archives the body itself (crawler.pipelines)
                logging.getLogger(__name__).warning("archive: revisit of %s not written: %s", url, exc)
        return out
    if archive is not None:
        try:
            out.warc_record = archive_job(*archive)
        except Exception as exc:  # the archive failing must not cost the document
            logging.getLogger(__name__).warning("archive: %s not written: %s", url, exc)
    if doc is None:
        return out
    try:
        doc.sha256 = sha256
        doc.captured_at = captured_at
        out.hits = inspect(doc)
        out.document = doc.to_json()
    except Exception as exc:
        logging.getLogger(__name__).warning("reading failed for %s: %s", url, exc)
        out.error = f"dokumen tidak dapat dibaca: {type(exc).__name__}"
        out.hits, out.document = [], None
    return out


def frontier_links(doc: Document) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], str]:
    """(links, images, title) of a document in the shape `spiders.links.outline` gives them.

    A link given again with the same text (a menu and its mobile copy) is left out: the spider takes
    a URL's first mention on a page, so it would change nothing but the reactor's work."""
    links = []
    seen: set[tuple[str, str]] = set()
    for x in doc.links:
        key = (x.url, x.text[:200])
        if key not in seen and x.url.startswith(("http://", "https://")):
            seen.add(key)
            links.append((key[0], key[1], x.region))
    extra = list(doc.meta.get("frames") or [])
    if doc.meta.get("refresh"):
        extra.append(doc.meta["refresh"])
    links.extend((str(u), "", "main") for u in extra)
    images = [(x.url, x.text[:200], x.region) for x in doc.images]
    h1 = next((b.text for b in doc.blocks if b.tag == "h1"), "")
    return links, images, (h1 or doc.title)[:200]


def inspect_job(documents: list[str]) -> list[list[Hit]]:
    """Page-level hits of stored documents (pages reused from an earlier sweep)."""
    return [inspect(Document.from_json(d)) for d in documents]


def judge_job(documents: list[str], reachable: bool, error: str | None) -> list[dict[str, Any]]:
    """Verdicts (as dicts) for one unit from its documents' JSON."""
    verdicts: list[Verdict] = (
        judge(Document.from_json(d) for d in documents) if reachable else unknown_verdicts(error or "tidak diketahui")
    )
    return [asdict(v) for v in verdicts]


_pool: ProcessPool | Inline | None = None


def pool(workers: int | None = None) -> ProcessPool | Inline:
    """The shared pool: `workers` processes (one per core by default), or inline for 0."""
    global _pool
    size = default_workers() if workers is None or workers < 0 else workers
    if _pool is None or size != _pool.size:
        shutdown()
        _pool = Inline() if size == 0 else ProcessPool(size)
    return _pool


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown()
        _pool = None


async def run(executor: ProcessPool | Inline, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Await `fn(*args, **kwargs)` in the pool from the reactor's asyncio loop."""
    return await executor.call(fn, args, kwargs)
