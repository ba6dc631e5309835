"""Item pipeline: pages stream to storage in batches; a unit is judged the moment its crawl ends.

Per-unit state (the unit's documents) lives only until that unit is judged, so memory follows
the number of units crawling at once, not the size of the sweep.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler

from checks.document import Document
from checks.judge import Verdict, grade, judge, score, unknown_verdicts
from crawler.items import PageItem, UnitDone
from storage import repo
from storage.db import get_engine, session

log = logging.getLogger(__name__)


def _parse_time(value: str) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def verdict_rows(verdicts: list[Verdict], page_ids: dict[str, int]) -> list[dict[str, Any]]:
    rows = []
    for v in verdicts:
        rows.append({
            "indicator": v.indicator, "status": v.status, "confidence": v.confidence, "rule_id": v.rule_id,
            "rule_version": v.rule_version, "summary": v.summary,
            "evidence": [{
                "page_id": page_ids.get(h.url), "url": h.url, "kind": h.kind, "locator": h.locator,
                "snippet": h.snippet, "sha256": h.sha256,
                "captured_at": _parse_time(h.captured_at),
            } for h in v.evidence],
        })
    return rows


def store_judgement(s: Any, visit_id: int, docs: list[Document], done: UnitDone, page_ids: dict[str, int],
                    kinds: Counter[str]) -> list[Verdict]:
    """Judge one unit's documents and store findings, score and zone on its visit."""
    verdicts = judge(docs) if done.reachable else unknown_verdicts(done.error or "tidak diketahui")
    value = score(verdicts)
    g, _, zone = grade(value)
    repo.save_judgement(
        s, visit_id, findings=verdict_rows(verdicts, page_ids), reachable=done.reachable, https=done.https,
        error=done.error, pages_fetched=done.pages_fetched, documents=dict(kinds), errors=done.errors,
        score=value, grade=g, zone=zone, status="done" if done.reachable else "failed",
    )
    return verdicts


class StoragePipeline:
    """Stores every page, judges every unit when its crawl ends."""

    def __init__(self, db_url: str | None, batch: int) -> None:
        self.engine = get_engine(db_url or None)
        self.batch = batch
        self.visits: dict[str, int] = {}  # unit key -> visit id, set by the runner
        self.pending: dict[str, list[dict[str, Any]]] = {}
        self.docs: dict[str, list[Document]] = {}
        self.page_ids: dict[str, dict[str, int]] = {}
        self.kinds: dict[str, Counter[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        pipe = cls(crawler.settings.get("PATUH_DATABASE_URL") or None, crawler.settings.getint("PATUH_PAGE_BATCH", 50))
        pipe.visits = dict(crawler.settings.getdict("PATUH_VISITS"))
        return pipe

    def process_item(self, item: Any) -> Any:
        if isinstance(item, PageItem):
            self._page(item)
        elif isinstance(item, UnitDone):
            self._done(item)
        return item

    def _page(self, item: PageItem) -> None:
        doc = item.document
        row = {
            "url": item.url, "final_url": item.final_url, "status": item.status, "content_type": item.content_type,
            "kind": item.kind, "sha256": item.sha256, "size": item.size, "depth": item.depth,
            "fetched_at": item.fetched_at, "etag": item.etag, "last_modified": item.last_modified,
            "text": doc.text[:1_000_000] if doc else "", "document": doc.to_json() if doc else None,
            "error": item.error,
        }
        self.pending.setdefault(item.unit, []).append(row)
        if doc is not None:
            self.docs.setdefault(item.unit, []).append(doc)
            self.kinds.setdefault(item.unit, Counter())[item.kind] += 1
        if len(self.pending[item.unit]) >= self.batch:
            self._flush(item.unit)

    def _flush(self, unit: str) -> None:
        rows = self.pending.pop(unit, [])
        if not rows:
            return
        # one row per URL within a visit: a redirect can lead two requests to the same page
        seen = self.page_ids.setdefault(unit, {})
        rows = [r for r in rows if r["url"] not in seen]
        unique: dict[str, dict[str, Any]] = {r["url"]: r for r in rows}
        with session(self.engine) as s:
            ids = repo.add_pages(s, self.visits[unit], list(unique.values()))
        for row, pid in zip(unique.values(), ids, strict=True):
            seen[row["url"]] = pid
            seen.setdefault(row["final_url"], pid)

    def _done(self, item: UnitDone) -> None:
        self._flush(item.unit)
        docs = self.docs.pop(item.unit, [])
        kinds = self.kinds.pop(item.unit, Counter())
        page_ids = self.page_ids.pop(item.unit, {})
        with session(self.engine) as s:
            store_judgement(s, self.visits[item.unit], docs, item, page_ids, kinds)

    def close_spider(self, spider: Spider | None = None) -> None:
        for unit in list(self.pending):
            self._flush(unit)
