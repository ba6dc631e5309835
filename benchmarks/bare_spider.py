#!/usr/bin/env python3
"""The baseline of the benchmark: a bare Scrapy spider that only fetches each unit's site.

It runs with Patuh's own Scrapy settings (`crawler.settings`: concurrency, per-host concurrency,
delay, robots.txt, timeouts, retries, size limits, user agent), minus Patuh's components
(pipelines, middlewares, extensions, handlers, HTTP cache, scheduler plug-ins) and `PATUH_*`, and
crawls like Patuh's spider does in shape: one frontier per site, at most `PATUH_PER_SITE_PARALLEL`
requests of a site in flight, at most `PATUH_MAX_PAGES_PER_SITE` pages per site, depth at most
`PATUH_MAX_DEPTH`, links inside the site's own host only, the same file extensions skipped. Links
come from `response.css("a::attr(href)")` (parsel/lxml) and the frontier is plain breadth-first.
It stores nothing, extracts nothing else, judges nothing: it counts pages.

    python benchmarks/bare_spider.py --units units.csv --out bare.json [--progress bare.progress] [-s NAME=VALUE]

`--out` gets a JSON summary (pages, errors, statuses, bytes, timings); `--progress` gets one line
per finished site (`time sites_done pages`), for relating memory to progress.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urldefrag, urlparse

os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")  # STACK.md: never fetch the suffix list
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import scrapy  # noqa: E402
from scrapy import signals  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.http import Response, TextResponse  # noqa: E402
from scrapy.settings import Settings  # noqa: E402
from twisted.python.failure import Failure  # noqa: E402

# the same extensions Patuh's spider never requests (spiders/site.py, SKIP_EXT), copied so that the
# baseline does not import Patuh's spider
SKIP_EXT = re.compile(
    r"\.(?:jpe?g|png|gif|webp|bmp|svg|ico|css|js|json|xml|rss|atom|zip|rar|7z|gz|tar|mp3|mp4|avi|mov|wmv|"
    r"docx?|xlsx?|pptx?|apk|exe|woff2?|ttf|eot)$",
    re.I,
)
# settings of Patuh that are not plain Scrapy behaviour: left out of the baseline
EXCLUDED = {"ITEM_PIPELINES", "SPIDER_MODULES", "NEWSPIDER_MODULE", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES",
            "EXTENSIONS", "DOWNLOAD_HANDLERS", "SCHEDULER", "DUPEFILTER_CLASS", "ADDONS", "SPIDER_LOADER_CLASS"}
EXCLUDED_PREFIXES = ("PATUH_", "PLAYWRIGHT_", "HTTPCACHE_", "REDIS_", "SCHEDULER_PERSIST", "FEED", "WARC")


def patuh_settings() -> dict[str, Any]:
    from crawler import settings as ps

    return {k: getattr(ps, k) for k in dir(ps) if k.isupper()}


def bare_settings(overrides: dict[str, str] | None = None) -> tuple[Settings, dict[str, Any], dict[str, int]]:
    """Scrapy settings copied from Patuh's, and the per-site limits the baseline keeps itself."""
    ps = patuh_settings()
    for key, value in (overrides or {}).items():
        ps[key] = value
    copied = {k: v for k, v in ps.items() if k not in EXCLUDED and not k.startswith(EXCLUDED_PREFIXES)}
    settings = Settings()
    for key, value in copied.items():
        settings.set(key, value, priority="project")
    settings.set("REMOTE_CONTROL_ENABLED", False, priority="project")
    settings.set("TELNETCONSOLE_ENABLED", False, priority="project")
    limits = {"max_pages": int(ps.get("PATUH_MAX_PAGES_PER_SITE", 150)), "max_depth": int(ps.get("PATUH_MAX_DEPTH", 6)),
              "parallel": int(ps.get("PATUH_PER_SITE_PARALLEL", 4))}
    return settings, copied, limits


def host_of(url: str) -> str:
    p = urlparse(url)
    return (p.hostname or "").lower() + (f":{p.port}" if p.port else "")


@dataclass
class SiteState:
    key: str
    host: str
    queue: deque[tuple[str, int]] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    inflight: int = 0
    requested: int = 0


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, units: list[str] | None = None, limits: dict[str, int] | None = None,
                 progress: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units or []
        self.limits = limits or {"max_pages": 150, "max_depth": 6, "parallel": 4}
        self.sites: dict[str, SiteState] = {}
        self.progress = progress
        self.pages = 0
        self.errors = 0
        self.bytes = 0
        self.sites_done = 0
        self.statuses: Counter[int] = Counter()
        self.kinds: Counter[str] = Counter()
        self.pages_per_site: list[int] = []
        self.t_open = time.time()
        self.t_first: float | None = None
        self.t_last: float | None = None

    async def start(self) -> AsyncIterator[Any]:
        for n, url in enumerate(self.units):
            state = SiteState(key=str(n), host=host_of(url))
            self.sites[state.key] = state
            state.seen.add(urldefrag(url)[0])
            state.queue.append((url, 0))
            for request in self._pump(state):
                yield request

    def _pump(self, state: SiteState) -> Iterator[scrapy.Request]:
        lim = self.limits
        while state.queue and state.inflight < lim["parallel"] and state.requested < lim["max_pages"]:
            url, depth = state.queue.popleft()
            state.inflight += 1
            state.requested += 1
            yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True,
                                 meta={"site": state.key, "link_depth": depth})
        if state.inflight == 0 and self.sites.pop(state.key, None) is not None:
            self.sites_done += 1
            self.pages_per_site.append(state.requested)
            if self.progress:
                self.progress.write(f"{time.time():.3f} {self.sites_done} {self.pages}\n")
                self.progress.flush()

    def _seen_response(self) -> None:
        now = time.time()
        self.t_first = self.t_first or now
        self.t_last = now

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        state = self.sites[response.meta["site"]]
        state.inflight -= 1
        self.pages += 1
        self.bytes += len(response.body)
        self.statuses[response.status] += 1
        self._seen_response()
        # not meta["depth"]: Scrapy's DepthMiddleware overwrites that with the depth of whichever response
        # the request was yielded from, which is not the link's depth here
        depth = int(response.meta["link_depth"])
        ctype = response.headers.get(b"Content-Type", b"html") or b""
        if isinstance(response, TextResponse) and b"html" in ctype.lower():
            self.kinds["html"] += 1
            if depth < self.limits["max_depth"] and host_of(response.url) == state.host:
                for href in response.css("a::attr(href)").getall():
                    url = urldefrag(response.urljoin(href.strip()))[0]
                    if not url.startswith(("http://", "https://")) or url in state.seen:
                        continue
                    if host_of(url) != state.host or SKIP_EXT.search(urlparse(url).path):
                        continue
                    state.seen.add(url)
                    state.queue.append((url, depth + 1))
        else:
            self.kinds["other"] += 1
        yield from self._pump(state)

    def failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request  # type: ignore[attr-defined]
        state = self.sites.get(request.meta.get("site"))
        self.errors += 1
        self._seen_response()
        response = getattr(failure.value, "response", None)
        self.statuses[int(response.status) if response is not None else 0] += 1
        if state is None:
            return
        state.inflight -= 1
        yield from self._pump(state)


def read_units(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return [row["url"].strip() for row in csv.DictReader(fh) if (row.get("url") or "").strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=Path, required=True, help="CSV with a url column (the farm's units.csv)")
    ap.add_argument("--out", type=Path, required=True, help="write the JSON summary here")
    ap.add_argument("--progress", type=Path, default=None, help="append one line per finished site here")
    ap.add_argument("--limit", type=int, default=None, help="only the first N units")
    ap.add_argument("-s", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                    help="override a setting, as for `patuh sweep -s`")
    args = ap.parse_args(argv)
    overrides = dict(pair.split("=", 1) for pair in args.overrides)
    urls = read_units(args.units)[: args.limit or None]
    settings, copied, limits = bare_settings(overrides)
    progress = args.progress.open("a") if args.progress else None
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")  # as Patuh's runner does
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    holder: dict[str, Any] = {}

    def closed(spider: BareSpider, reason: str) -> None:
        holder["spider"], holder["reason"], holder["t_close"] = spider, reason, time.time()

    crawler.signals.connect(closed, signal=signals.spider_closed)
    t0 = time.time()
    process.crawl(crawler, units=urls, limits=limits, progress=progress)
    process.start()
    t_end = time.time()
    spider = holder.get("spider")
    if spider is None:
        print("bare spider did not run", file=sys.stderr)
        return 1
    pps = spider.pages_per_site
    summary = {
        "units": len(urls), "sites_done": spider.sites_done, "pages": spider.pages, "errors": spider.errors,
        "responses": spider.pages + spider.errors, "bytes": spider.bytes, "statuses": dict(spider.statuses),
        "kinds": dict(spider.kinds), "close_reason": holder.get("reason"),
        "pages_per_site": {"min": min(pps, default=0), "max": max(pps, default=0),
                           "mean": sum(pps) / len(pps) if pps else 0},
        "t_start": t0, "t_open": spider.t_open, "t_first_response": spider.t_first, "t_last_response": spider.t_last,
        "t_close": holder.get("t_close"), "t_end": t_end, "limits": limits,
        "settings": {k: v for k, v in copied.items() if isinstance(v, (int, float, str, bool))},
    }
    args.out.write_text(json.dumps(summary, indent=2, default=str))
    if progress:
        progress.close()
    print(f"bare spider: {spider.pages} pages, {spider.errors} errors, {spider.sites_done}/{len(urls)} sites, "
          f"{t_end - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
