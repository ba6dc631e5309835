"""Items the spider yields: one per fetched page (with what a worker read in it), one for the pages
reused unfetched, one when a unit's crawl is over (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class PageItem:
    unit: str
    url: str
    final_url: str
    status: int
    content_type: str
    kind: str  # html, pdf, image, js, other
    sha256: str
    size: int
    depth: int
    fetched_at: datetime
    body: bytes = b""  # a body of a kind Patuh does not read, for the archive
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    reused: str | None = None  # "304", "sha256" or "revisit": the stored document of `reused_from` stands
    reused_from: int | None = None
    render_reason: str | None = None  # why the page was read in Chromium
    headers: list[tuple[bytes, bytes]] | None = None  # response headers, for the archive
    reason: str = ""  # HTTP reason phrase
    raw_body: bytes = b""  # a rendered page: the body the server sent (archived; `body` is the DOM)
    refers_to: str | None = None  # a reused page: the archive record of the earlier body
    read: bool = False  # a worker read the body (crawler.workers.read_job): the fields below are its reading
    document: str | None = None  # Document JSON (its text is the page's text)
    hits: list[Any] = field(default_factory=list)  # page-level evidence (checks.rules.base.Hit)
    warc_record: str | None = None  # the archive record the worker wrote


@dataclass(slots=True)
class ReusedPages:
    """Pages of a unit's last visit that are not fetched tonight (`spiders.site.revisit_due`), in one
    item: most of a re-sweep's pages, each of which cost the reactor a pass through Scrapy's item
    machinery as an item of its own."""

    unit: str
    pages: list[PageItem]


@dataclass(slots=True)
class UnitDone:
    unit: str
    reachable: bool
    error: str | None
    https: bool
    pages_fetched: int
    errors: int
    items: int = 0  # page items the spider yielded for this unit before this one


@dataclass(slots=True)
class ScreenshotItem:
    visit_id: int
    url: str
    page_sha256: str  # the captured body the screenshot shows; the cache key
    png: bytes
