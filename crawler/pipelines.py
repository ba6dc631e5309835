"""Item pipeline: pages stream to storage in batches; a unit is judged the moment its crawl ends.

Extraction and judgement run in a worker process (`crawler.workers`); this pipeline only awaits
them and writes rows. Nothing is kept per unit beyond its unwritten batch, so memory follows the
number of units crawling at once, not the size of the sweep. Rows are written by one storage writer
(a process of its own, or a thread with PATUH_STORAGE_PROCESS=0), in the order they were handed over:
the reactor goes on fetching and feeding the workers meanwhile.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy.exc import IntegrityError

from checks.judge import decide, grade, score, unknown_verdicts
from checks.rules.base import Hit, enabled_rules
from crawler import workers
from crawler.items import PageItem, ReusedPages, ScreenshotItem, UnitDone
from crawler.pool import ProcessPool
from storage import repo
from storage.archive import ArchiveError, WarcArchive
from storage.db import get_engine, session

log = logging.getLogger(__name__)


def _parse_time(value: str) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def verdict_rows(verdicts: list[dict[str, Any]], page_ids: dict[str, int]) -> list[dict[str, Any]]:
    """Finding rows for storage from verdict dicts (`checks.judge.Verdict` as dicts)."""
    return [{
        "indicator": v["indicator"], "status": v["status"], "confidence": v["confidence"], "rule_id": v["rule_id"],
        "rule_version": v["rule_version"], "summary": v["summary"],
        "evidence": [{
            "page_id": page_ids.get(h["url"]), "url": h["url"], "kind": h["kind"], "locator": h["locator"],
            "snippet": h["snippet"], "sha256": h["sha256"], "captured_at": _parse_time(h["captured_at"]),
            **({"screenshot": h["screenshot"], "screenshot_sha256": h.get("screenshot_sha256")}
               if h.get("screenshot") else {}),
        } for h in v["evidence"]],
    } for v in verdicts]


def save_verdicts(s: Any, visit_id: int, verdicts: list[dict[str, Any]], done: UnitDone,
                  index: list[tuple[int, str, str, str, bool]] | None = None) -> None:
    """Store a unit's verdicts, score and zone on its visit (one transaction); `index` is the visit's
    `repo.visit_page_index` when the caller has it already."""
    index = repo.visit_page_index(s, visit_id) if index is None else index
    page_ids: dict[str, int] = {}
    for pid, url, final_url, _, _ in index:
        page_ids.setdefault(url, pid)
        page_ids.setdefault(final_url, pid)
    kinds = dict(Counter(kind for _, _, _, kind, has_doc in index if has_doc))
    value = score({v["indicator"]: v["status"] for v in verdicts})
    g, _, zone = grade(value)
    repo.save_judgement(
        s, visit_id, findings=verdict_rows(verdicts, page_ids), reachable=done.reachable, https=done.https,
        error=done.error, pages_fetched=done.pages_fetched, documents=kinds, errors=done.errors,
        score=value, grade=g, zone=zone, status="done" if done.reachable else "failed",
    )


def judge_visit(s: Any, visit_id: int, done: UnitDone) -> None:
    """Judge a stored visit now (recheck): documents from storage, verdicts stored."""
    docs = repo.visit_documents(s, visit_id)
    save_verdicts(s, visit_id, workers.judge_job([d for _, d in docs], done.reachable, done.error), done)


def in_session(db_url: str | None, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(session, *args)` in a session of this process's engine for `db_url` (cached per URL)."""
    with session(get_engine(db_url)) as s:
        return fn(s, *args)


def _write_pages(s: Any, visit_id: int, rows: list[dict[str, Any]], reuse: list[tuple[int, dict[str, Any]]],
                 archive_root: str | None = None) -> None:
    """Store a batch of a visit's pages. Asked again for pages it stored already (a storage process
    that died after its commit, before its answer, gets the job again), it stores only the others."""
    if archive_root is not None:
        _write_revisits(archive_root, reuse)
    if rows:
        try:
            repo.add_pages(s, visit_id, rows)
        except IntegrityError:
            stored = repo.stored_urls(s, visit_id, [r["url"] for r in rows])
            repo.add_pages(s, visit_id, [r for r in rows if r["url"] not in stored])
    if reuse:
        try:
            repo.reuse_pages(s, visit_id, reuse)
        except IntegrityError:
            stored = repo.stored_urls(s, visit_id, [o["url"] for _, o in reuse])
            repo.reuse_pages(s, visit_id, [(pid, o) for pid, o in reuse if o["url"] not in stored])


def _write_revisits(root: str, reuse: list[tuple[int, dict[str, Any]]]) -> None:
    """The revisit records of 304 answers, written by the storage writer: a 304 brings nothing a
    worker must read, and the rows travel to storage anyway (a round trip to a worker for each cost
    the reactor more than the record itself). An original that is gone leaves the earlier record."""
    for _, overrides in reuse:
        spec = overrides.pop("revisit", None)
        if spec is None:
            continue
        try:
            overrides["warc_record"] = workers.revisit_job(root, *spec)
        except Exception as exc:  # the archive failing must not cost the crawl
            log.debug("archive: revisit of %s not written: %s", spec[0], exc)


def _finish_unchanged(s: Any, visit_id: int, rows: list[dict[str, Any]], reuse: list[tuple[int, dict[str, Any]]],
                      archive_root: str | None, done: UnitDone, rule_versions: dict[str, int], shots: bool
                      ) -> dict[str, str] | None:
    """A unit none of whose pages changed: its last pages stored and its last visit's judgement
    carried over (`repo.carry_judgement`), in one job of the storage writer. The pages of present
    evidence that have no screenshot yet (URL -> SHA-256; empty unless `shots`), or None when the
    unit must be judged after all (no earlier judgement, or the rules changed)."""
    _write_pages(s, visit_id, rows, reuse, archive_root)
    if not repo.carry_judgement(s, visit_id, rule_versions, reachable=done.reachable, https=done.https,
                                error=done.error, pages_fetched=done.pages_fetched, errors=done.errors):
        return None
    return _to_shoot(repo.unshot_evidence(s, visit_id)) if shots else {}


def _to_shoot(evidence: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """URL -> body SHA-256 of the web pages among evidence of present findings (url, kind, sha256)."""
    wanted: dict[str, str] = {}
    for url, kind, sha in evidence:
        if kind in ("html", "js", "link") and sha and not url.lower().endswith(".pdf"):
            wanted.setdefault(url, sha)
    return wanted


def _stored_documents(s: Any, visit_id: int, read: set[str]
                      ) -> tuple[list[tuple[int, str, str, str, bool]], list[tuple[int, str]]]:
    """The visit's page index, and the stored documents of its pages not read in this sweep."""
    index = repo.visit_page_index(s, visit_id)
    missing = {pid for pid, url, _, _, has_doc in index if has_doc and url not in read}
    return index, repo.visit_documents(s, visit_id, only=missing) if missing else []


class StoragePipeline:
    """Stores every page, judges every unit when its crawl ends."""

    def __init__(self, db_url: str | None, batch: int, worker_count: int, storage_process: bool = True) -> None:
        self.db_url = db_url or None
        self.engine = get_engine(self.db_url)  # the schema is brought up to date before any writer starts
        self.batch = batch
        self.executor = workers.pool(worker_count)
        self.visits: dict[str, int] = {}  # unit key -> visit id, set by the runner
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.reuse: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.processed: dict[str, int] = {}  # page items of a unit through this pipeline
        self.waiters: dict[str, tuple[int, asyncio.Future[None]]] = {}
        self.urls: dict[str, set[str]] = {}
        self.changed: dict[str, int] = {}  # pages of a unit read afresh (not reused) in this sweep
        self.hits: dict[str, dict[str, list[Hit]]] = {}  # unit -> page URL -> its page-level evidence
        self.crawler: Crawler | None = None
        self.screenshots = False
        self.shot_dir = Path("data/screenshots")
        self.archive: WarcArchive | None = None
        self.rule_versions = {r.id: r.version for r in enabled_rules()}
        # one writer, so writes keep their order (a unit's pages before its verdicts): a process of its
        # own by default, whose SQLAlchemy work does not compete with the reactor for the GIL (a
        # re-sweep is bound by the reactor process alone), else a thread (PATUH_STORAGE_PROCESS=0)
        self.storage_process: ProcessPool | None = ProcessPool(1, "patuh-store") if storage_process else None
        self._thread: ThreadPoolExecutor | None = None  # the storage thread, when there is no process

    @property
    def storage(self) -> ThreadPoolExecutor:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="patuh-storage")
        return self._thread

    async def _stored(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(session, *args)` in a session of the storage writer and await its result."""
        if self.storage_process is not None:
            return await self.storage_process.call(in_session, (self.db_url, fn, *args), {})
        return await asyncio.wrap_future(self.storage.submit(in_session, self.db_url, fn, *args))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        st = crawler.settings
        pipe = cls(st.get("PATUH_DATABASE_URL") or None, st.getint("PATUH_PAGE_BATCH", 50),
                   st.getint("PATUH_WORKERS", -1), st.getbool("PATUH_STORAGE_PROCESS", True))
        pipe.visits = {str(k): int(v) for k, v in st.getdict("PATUH_VISITS").items()}
        pipe.crawler = crawler
        rendering = st.get("PATUH_RENDER", "auto") != "never"
        pipe.screenshots = rendering and st.get("PATUH_SCREENSHOTS", "evidence") == "evidence"
        pipe.shot_dir = Path(st.get("PATUH_SCREENSHOT_DIR") or "data/screenshots")
        if st.getbool("PATUH_ARCHIVE", True):
            pipe.archive = WarcArchive(st.get("PATUH_ARCHIVE_DIR") or "data/archive")
        return pipe

    async def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem | ReusedPages):
            pages = item.pages if isinstance(item, ReusedPages) else [item]
            try:
                for page in pages:
                    await self._page(page)
            finally:
                count = self.processed[item.unit] = self.processed.get(item.unit, 0) + len(pages)
                expected = self.waiters.get(item.unit)
                if expected and count >= expected[0] and not expected[1].done():
                    expected[1].set_result(None)
        elif isinstance(item, ScreenshotItem):
            await self._store_screenshot(item)
        elif isinstance(item, UnitDone):
            # Scrapy may hand items of different responses over out of order: wait until every page
            # item the spider yielded for this unit has been stored
            if self.processed.get(item.unit, 0) < item.items:
                waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.waiters[item.unit] = (item.items, waiter)
                await waiter
            self.waiters.pop(item.unit, None)
            self.processed.pop(item.unit, None)
            await self._done(item)
        return item

    async def _page(self, item: PageItem) -> None:
        seen = self.urls.setdefault(item.unit, set())
        if item.url in seen:  # a redirect can lead two requests to the same page
            return
        seen.add(item.url)
        row: dict[str, Any] = {
            "url": item.url, "final_url": item.final_url, "status": item.status, "content_type": item.content_type,
            "kind": item.kind, "sha256": item.sha256, "size": item.size, "depth": item.depth,
            "fetched_at": item.fetched_at, "etag": item.etag, "last_modified": item.last_modified,
            "error": item.error, "render_reason": item.render_reason,
        }
        self._archive(item, row)
        if item.reused and item.reused_from:
            overrides: dict[str, Any] = {"url": item.url, "depth": item.depth, "reused": item.reused,
                                         "final_url": item.final_url}
            if row.get("warc_record"):
                overrides["warc_record"] = row["warc_record"]
            elif item.reused == "304" and item.refers_to and self.archive is not None and not item.error:
                overrides["revisit"] = (item.final_url, item.fetched_at, item.refers_to, item.sha256, item.status,
                                        item.reason, item.headers or [])
            if item.reused != "revisit":  # fetched tonight: the new status, time and validators stand
                overrides.update(status=item.status if item.status != 304 else 200, fetched_at=item.fetched_at)
                if item.etag or item.last_modified:
                    overrides.update(etag=item.etag, last_modified=item.last_modified)
            self.reuse.setdefault(item.unit, []).append((item.reused_from, overrides))
        else:
            self.changed[item.unit] = self.changed.get(item.unit, 0) + 1
            if item.read:
                row["document"] = item.document  # its text is the document's (storage.reviews.page_text)
                if item.warc_record:
                    row["warc_record"] = item.warc_record
                if item.document is not None:
                    self.hits.setdefault(item.unit, {})[item.url] = item.hits
            self.rows.setdefault(item.unit, []).append(row)
        if len(self.rows.get(item.unit, ())) + len(self.reuse.get(item.unit, ())) >= self.batch:
            await self._flush(item.unit)

    @property
    def _archive_root(self) -> str | None:
        return str(self.archive.root) if self.archive is not None else None

    def _archive(self, item: PageItem, row: dict[str, Any]) -> None:
        """Responses no worker read into the WARC archive: revisits of known bodies, and fetched bodies
        of kinds Patuh does not read. Bodies that are read are archived by the worker."""
        if self.archive is None or item.error or item.reused == "revisit" or item.kind == "other":
            return
        if item.read:  # the worker archived it as it read it
            return
        if item.reused in ("304", "sha256") and item.warc_record:  # a worker wrote its revisit record
            row["warc_record"] = item.warc_record
            return
        if item.reused == "304":  # the storage writer writes its revisit record (_write_revisits)
            return
        try:
            if item.reused == "sha256" and item.refers_to:
                try:
                    ref = self.archive.write_revisit(item.final_url, item.fetched_at, item.refers_to, item.sha256,
                                                     status=item.status, headers=item.headers or [],
                                                     reason=item.reason)
                    row["warc_record"] = str(ref)  # tonight's fetch; it resolves to the archived body
                    return
                except ArchiveError:
                    pass  # the original is gone: the body is archived again
            body = item.raw_body or item.body
            ref = self.archive.write_response(item.final_url, item.status, item.reason, item.headers or [], body,
                                              item.fetched_at)
            row["warc_record"] = str(ref)
            if item.kind == "js" and item.raw_body:  # the DOM the browser built from that response
                self.archive.write_resource(item.final_url, "text/html; charset=utf-8", item.body, item.fetched_at,
                                            record_type="conversion", refers_to=ref)
        except Exception as exc:  # the archive failing must not cost the crawl
            log.warning("archive: %s not written: %s", item.url, exc)

    async def _flush(self, unit: str) -> None:
        rows, reuse = self.rows.pop(unit, []), self.reuse.pop(unit, [])
        if rows or reuse:
            await self._stored(_write_pages, self.visits[unit], rows, reuse, self._archive_root)

    async def _done(self, item: UnitDone) -> None:
        rows, reuse = self.rows.pop(item.unit, []), self.reuse.pop(item.unit, [])
        self.urls.pop(item.unit, None)
        visit_id = self.visits[item.unit]
        changed = self.changed.pop(item.unit, 0)
        hits = self.hits.pop(item.unit, {})
        if not changed and item.reachable:
            # nothing of the unit changed since its last visit: one job stores its last pages and
            # carries that visit's judgement over, unless the rules changed since
            unshot = await self._stored(_finish_unchanged, visit_id, rows, reuse, self._archive_root, item,
                                        self.rule_versions, self.screenshots)
            if unshot is not None:
                if self.screenshots:
                    await self._request_screenshots(visit_id, unshot)
                return
        elif rows or reuse:
            await self._stored(_write_pages, visit_id, rows, reuse, self._archive_root)
        index = None
        if not item.reachable:
            verdicts = [asdict(v) for v in unknown_verdicts(item.error or "tidak diketahui")]
        else:
            verdicts, index = await self._decide(visit_id, hits)
        await self._stored(save_verdicts, visit_id, verdicts, item, index)
        if self.screenshots:
            present = (h for v in verdicts if v["status"] == "present" for h in v["evidence"])
            await self._request_screenshots(visit_id, _to_shoot((h["url"], h["kind"], h["sha256"]) for h in present))

    async def _decide(self, visit_id: int, hits: dict[str, list[Hit]]
                      ) -> tuple[list[dict[str, Any]], list[tuple[int, str, str, str, bool]]]:
        """A unit's verdicts from its pages' evidence, in page order: the hits found as each page was
        read, and for pages whose stored document stands (reused), hits read again from storage.
        Also the visit's page index it read."""
        index, stored = await self._stored(_stored_documents, visit_id, set(hits))
        again: dict[int, list[Hit]] = {}
        if stored:
            found = await workers.run(self.executor, workers.inspect_job, [d for _, d in stored])
            again = {pid: h for (pid, _), h in zip(stored, found, strict=True)}
            del stored
        ordered: list[Hit] = []
        kinds: Counter[str] = Counter()
        for pid, url, _, kind, has_doc in index:
            if not has_doc:
                continue
            page_hits = hits.get(url) if pid not in again else again[pid]
            if page_hits is None:
                continue
            ordered.extend(page_hits)
            kinds[kind] += 1
        return [asdict(v) for v in decide(ordered, kinds)], index

    async def _request_screenshots(self, visit_id: int, wanted: dict[str, str]) -> None:
        """A screenshot of every page in `wanted` (URL -> body SHA-256), once per body."""
        from spiders.site import screenshot_request

        for url, sha in wanted.items():
            path = self.shot_dir / f"{sha}.png"
            if path.exists():  # the same body was shot before: link it again
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                await self._stored(repo.attach_screenshot, visit_id, url, str(path), digest)
                continue
            spider = self.crawler.spider if self.crawler else None
            if spider is not None and self.crawler is not None and self.crawler.engine is not None:
                self.crawler.engine.crawl(screenshot_request(spider, visit_id, url, sha))  # type: ignore[arg-type]

    async def _store_screenshot(self, item: ScreenshotItem) -> None:
        self.shot_dir.mkdir(parents=True, exist_ok=True)
        path = self.shot_dir / f"{item.page_sha256}.png"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(item.png)
        tmp.replace(path)
        if self.archive is not None:
            try:
                self.archive.write_resource(item.url, "image/png", item.png, datetime.now(UTC))
            except Exception as exc:
                log.warning("archive: screenshot of %s not written: %s", item.url, exc)
        await self._stored(repo.attach_screenshot, item.visit_id, item.url, str(path),
                           hashlib.sha256(item.png).hexdigest())

    def close_spider(self) -> None:
        try:
            if self._thread is not None:  # its earlier writes first
                self._thread.shutdown(wait=True)
            for unit in set(self.rows) | set(self.reuse):  # the reactor has stopped: written from here
                rows, reuse = self.rows.pop(unit, []), self.reuse.pop(unit, [])
                in_session(self.db_url, _write_pages, self.visits[unit], rows, reuse, self._archive_root)
        finally:
            if self.storage_process is not None:
                self.storage_process.shutdown(timeout=60)
            if self.archive is not None:
                self.archive.close()
