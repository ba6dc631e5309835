"""Runs one crawl of a list of units in this process and reports progress while it runs.

The Twisted reactor cannot restart within a process, so one process runs one crawl; the nightly
scheduler starts a new process per sweep.
"""

from __future__ import annotations

import atexit
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler import settings as default_settings
from crawler import workers
from crawler.items import PageItem, ReusedPages, UnitDone
from spiders.site import SiteSpider
from storage import repo
from storage.db import get_engine, session

log = logging.getLogger(__name__)


@dataclass
class Progress:
    units_total: int
    units_done: int = 0
    pages: int = 0
    errors: int = 0
    last_url: str = ""


def build_settings(db_url: str | None, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule(default_settings, priority="project")
    if db_url:
        settings.set("PATUH_DATABASE_URL", db_url, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    if settings.getbool("PATUH_PUBLIC_ONLY"):  # every connection's address is checked (crawler.netguard)
        settings.set("TWISTED_DNS_RESOLVER", "crawler.netguard.PublicOnlyResolver", priority="cmdline")
    if settings.get("PATUH_RENDER", "auto") != "never":
        from crawler.browser import playwright_settings

        extra = playwright_settings()
        if not extra:
            settings.set("PATUH_RENDER", "never", priority="cmdline")
            log.warning("Chromium tidak ditemukan (/usr/bin/chromium): halaman dibaca tanpa render JavaScript")
        for key, value in extra.items():
            settings.set(key, value, priority="project")
    return settings


def previous_provider(db_url: str | None, sweep_id: int, keys: list[str], ahead: int = 32
                      ) -> Callable[[str], dict[str, dict[str, Any]]]:
    """What each unit's last finished visit fetched, asked for when the spider opens the unit.

    Units open in the order of `keys`, so the pages of the next `ahead` units are read together:
    three queries per 32 units instead of three per unit, on the reactor's thread."""
    engine = get_engine(db_url)
    position = {key: n for n, key in enumerate(keys)}
    ready: dict[str, dict[str, dict[str, Any]]] = {}

    def previous(key: str) -> dict[str, dict[str, Any]]:
        if key not in ready:
            start = position.get(key)
            batch = keys[start:start + ahead] if start is not None else [key]
            with session(engine) as s:
                found = repo.previous_pages_of(s, [int(k) for k in batch], sweep_id)
            for k in batch:
                ready.setdefault(k, found.get(int(k), {}))
        return ready.pop(key)

    return previous


def quiet_gc() -> None:
    """Keep the garbage collector off what lives for the whole process.

    The modules and objects of a started crawl are never garbage, yet every full collection walks
    them, and the collections at interpreter exit walk the crawl's whole heap (0.45 s of a 4 s
    re-sweep of 100 units, benchmarks/). Frozen objects are skipped by both. Scrapy allocates
    (requests, responses, deferreds) far faster than it leaves cycles behind: collecting every
    10,000 allocations instead of 700 cut the reactor's collections from 0.78 to 0.28 s in a
    first sweep of 100 units; reference counting still frees everything else at once.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)  # what the crawl allocated, too, once it is over


def run_crawl(units: list[dict[str, str]], visits: dict[str, int], db_url: str | None,
              overrides: dict[str, Any] | None = None,
              on_progress: Callable[[Progress], None] | None = None, sweep_id: int | None = None) -> Progress:
    """Crawl `units` (dicts with key = unit id and url); `visits` maps each key to its stored visit id.

    With `sweep_id`, pages of the units' previous visits are revalidated (ETag / Last-Modified)
    and reused when unchanged.
    """
    settings = build_settings(db_url, overrides)
    settings.set("PATUH_VISITS", visits, priority="cmdline")
    # Scrapy's own handler would print over the progress display; the CLI installs one that does not
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    progress = Progress(units_total=len(units))

    shown = [0.0]  # when the display was last updated

    def scraped(item: Any, **_: Any) -> None:
        if isinstance(item, PageItem):
            progress.pages += 1
            progress.errors += bool(item.error)
            progress.last_url = item.url
        elif isinstance(item, ReusedPages):
            progress.pages += len(item.pages)
        elif isinstance(item, UnitDone):
            progress.units_done += 1
        # ten updates a second are plenty for a person, and one per item cost the reactor
        if on_progress and (isinstance(item, UnitDone) or time.monotonic() - shown[0] >= 0.1):
            shown[0] = time.monotonic()
            on_progress(progress)

    crawler = process.create_crawler(SiteSpider)
    crawler.signals.connect(scraped, signal=signals.item_scraped)
    previous = previous_provider(db_url, sweep_id, [str(u["key"]) for u in units]) if sweep_id is not None else None
    try:
        process.crawl(crawler, units=units, previous=previous)
        quiet_gc()
        process.start()
        if on_progress:
            on_progress(progress)
    finally:
        workers.shutdown()
    return progress
