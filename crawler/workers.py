"""CPU work off the reactor: document extraction and a unit's judgement run in a worker process.

Scrapy's own work saturates one core (STACK.md); parsing and judging on that core would halve the
crawl rate. The reactor hands bytes to a process pool and awaits the result, so the second core
does the reading while the first keeps fetching. With `PATUH_WORKERS=0` everything runs inline
(handy for debugging; the results are identical).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

from checks.document import Document
from checks.extract_html import extract_html
from checks.extract_image import extract_image
from checks.extract_pdf import extract_pdf
from checks.judge import Verdict, judge, unknown_verdicts

_pool: Executor | None = None
_pool_size = -1


def default_workers() -> int:
    return max(1, (os.cpu_count() or 2) - 1)


_archives: dict[tuple[str, int], Any] = {}  # one writer per process (file names carry the pid)


def archive_job(root: str, url: str, status: int, reason: str, headers: list[tuple[bytes, bytes]], body: bytes,
                fetched_at: datetime, rendered: bytes = b"") -> str:
    """Write one response (and a rendered page's DOM) to this process's WARC file; its record ref."""
    from storage.archive import WarcArchive

    key = (root, os.getpid())
    archive = _archives.get(key)
    if archive is None:
        archive = _archives[key] = WarcArchive(root)
    ref = archive.write_response(url, status, reason, headers, body, fetched_at)
    if rendered:
        archive.write_resource(url, "text/html; charset=utf-8", rendered, fetched_at, record_type="conversion",
                               refers_to=ref)
    return str(ref)


def read_job(url: str, kind: str, body: bytes, encoding: str | None, sha256: str, captured_at: str,
             archive: tuple[Any, ...] | None = None) -> tuple[str, str, str | None]:
    """Archive a response and extract its document: (document JSON, text, record ref or None)."""
    ref = None
    if archive is not None:
        try:
            ref = archive_job(*archive)
        except Exception as exc:  # the archive failing must not cost the document
            logging.getLogger(__name__).warning("archive: %s not written: %s", url, exc)
    doc_json, text = extract_job(url, kind, body, encoding, sha256, captured_at)
    return doc_json, text, ref


def extract_job(url: str, kind: str, body: bytes, encoding: str | None, sha256: str,
                captured_at: str) -> tuple[str, str]:
    """(document JSON, plain text) of one fetched body."""
    if kind == "pdf":
        doc = extract_pdf(url, body)
    elif kind == "image":
        doc = extract_image(url, body, sha256)
    else:
        doc = extract_html(url, body.decode(encoding or "utf-8", errors="replace"), kind=kind)
    doc.sha256 = sha256
    doc.captured_at = captured_at
    return doc.to_json(), doc.text[:1_000_000]


def judge_job(documents: list[str], reachable: bool, error: str | None) -> list[dict[str, Any]]:
    """Verdicts (as dicts) for one unit from its documents' JSON."""
    verdicts: list[Verdict] = (
        judge(Document.from_json(d) for d in documents) if reachable else unknown_verdicts(error or "tidak diketahui")
    )
    return [asdict(v) for v in verdicts]


class _Inline(Executor):
    """An executor that runs the job at once, in this process."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def pool(workers: int | None = None) -> Executor:
    """The shared executor: a process pool of `workers` processes, or inline for 0."""
    global _pool, _pool_size
    size = default_workers() if workers is None or workers < 0 else workers
    if _pool is None or size != _pool_size:
        shutdown()
        if size == 0:
            _pool = _Inline()
        else:
            # spawn: a clean child (not a copy of a process with a running reactor and threads) whose
            # parent is this process, so that it can be told to die with it
            ctx = multiprocessing.get_context("spawn")
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx, initializer=_die_with_parent)
        _pool_size = size
    return _pool


def _die_with_parent() -> None:
    """A worker ends when the sweep that started it ends, even by kill -9 (Linux PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the pool still ends with a normal shutdown


def shutdown() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


async def run(executor: Executor, fn: Any, *args: Any) -> Any:
    """Await a job on the executor from the reactor's asyncio loop."""
    return await asyncio.wrap_future(executor.submit(fn, *args))
