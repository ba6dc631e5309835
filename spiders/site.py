"""The one spider: a best-first crawl of each unit's own site, any number of units at once.

Units are opened a few at a time (enough to fill the global request slots), so memory follows the
number of sites crawling at once, not the length of the list. Each unit keeps its own frontier (a
heap of links ranked by how likely they lead to service information), its own seen-set, page and
time budget, and a small number of requests in flight. When
a unit has nothing left in flight and nothing worth fetching, its crawl is over and the spider
emits a `UnitDone` item, so the pipeline can judge that unit and drop its state while other
units are still crawling. The spider decides what to fetch; it judges nothing.

Incremental sweeps: pages of the unit's last visit are revalidated with ETag / Last-Modified, an
unchanged body is not read again, and pages without evidence are refetched at least every
PATUH_REVISIT_DAYS nights (see `revisit_due`).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import ParseResult, parse_qsl, urlencode, urlparse, urlunparse

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from checks.text import NEWS_PATH
from crawler import netguard, workers
from crawler.browser import ContextRotation
from crawler.items import PageItem, ReusedPages, ScreenshotItem, UnitDone
from crawler.workers import Reading
from spiders.ranking import image_score, link_score

PDF_TYPES = ("application/pdf", "application/x-pdf")
READ_KINDS = ("html", "pdf", "js", "image")  # kinds whose document a worker reads
SKIP_EXT = re.compile(
    r"\.(?:jpe?g|png|gif|webp|bmp|svg|ico|css|js|json|xml|rss|atom|zip|rar|7z|gz|tar|mp3|mp4|avi|mov|wmv|"
    r"docx?|xlsx?|pptx?|apk|exe|woff2?|ttf|eot)$",
    re.I,
)
SESSION_PARAMS = re.compile(r"^(?:phpsessid|sid|sessionid|jsessionid|utm_\w+|fbclid|gclid|replytocom|share)$", re.I)
MAX_QUERY_VARIANTS = 8  # per path: calendar and session-id traps are cut here
MAX_URL_LENGTH = 2083  # longer links are not followed (Scrapy's URLLENGTH_LIMIT, whose middleware is off)
IMAGE_EXT = re.compile(r"\.(?:jpe?g|png|gif|webp|bmp)$", re.I)
MAX_IMAGES_PER_PAGE = 6


def _ocr_available() -> bool:
    try:
        from checks.ocr import ocr_available
    except ImportError:
        return False
    return ocr_available()


def canonical(url: str) -> str:
    """The URL without fragment, tracking/session parameters, default port; sorted query."""
    return _canonical(urlparse(url))


def _canonical(p: ParseResult) -> str:
    query = urlencode(sorted((k, v) for k, v in parse_qsl(p.query, keep_blank_values=True)
                             if not SESSION_PARAMS.match(k)))
    return urlunparse((p.scheme.lower(), _netloc(p), p.path or "/", "", query, ""))


def _is_pdf_url(url: str) -> bool:
    return urlparse(url).path.lower().endswith(".pdf")


def _looks_like_trap(path: str) -> bool:
    """Paths that grow without end: very deep, or one segment repeated (relative-link loops)."""
    segments = [seg for seg in path.split("/") if seg]
    if len(segments) > 12 or len(path) > 400:
        return True
    return any(segments.count(seg) >= 3 for seg in set(segments))


def origin(url: str) -> str:
    """Host and port as the same-site check sees them (a default port written out is no other site)."""
    return _netloc(urlparse(url))


def _netloc(p: ParseResult) -> str:
    netloc = (p.hostname or "").lower()
    try:
        port = p.port
    except ValueError:
        return netloc
    if port and not ((p.scheme == "http" and port == 80) or (p.scheme == "https" and port == 443)):
        netloc += f":{port}"
    return netloc


@dataclass
class UnitState:
    key: str
    start_url: str
    host: str
    max_pages: int
    max_depth: int
    deadline: float
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)
    frontier: list[tuple[float, int, str, int, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    offered: set[str] = field(default_factory=set)  # link URLs as written, already offered to the frontier
    query_variants: dict[str, int] = field(default_factory=dict)
    inflight: int = 0
    fetched: int = 0
    reused: int = 0
    reachable: bool | None = None
    error: str | None = None
    https: bool = False
    errors: int = 0
    failed: int = 0  # requests that got no page; they spend the budget like the others
    fetched_final: set[str] = field(default_factory=set)
    done: bool = False
    out_of_time: bool = False
    items: int = 0  # pages yielded (PageItem or in ReusedPages), so the pipeline knows when it has them all
    handed_on: bool = False  # the unit let the next one of the list start (it is winding down or done)
    images: int = 0
    image_urls: set[str] = field(default_factory=set)


def revisit_due(url: str, prev: dict[str, Any], now: datetime, days: int) -> bool:
    """Whether a page seen in the last sweep is fetched again tonight.

    Pages that carried evidence are always due, and every page at least once per `days` nights:
    a URL's turn comes on the night its hash names (so the load spreads over the week) or once its
    last real fetch is `days` old. Other nights its stored document is reused.
    """
    if days <= 1 or prev.get("evidence"):
        return True
    fetched = prev.get("fetched_at")
    if fetched is None or (now - fetched).total_seconds() >= days * 86400 - 3600:
        return True
    return zlib.crc32(url.encode()) % days == now.toordinal() % days


class SiteSpider(scrapy.Spider):
    name = "site"
    custom_settings: dict[str, Any] = {}

    def __init__(self, units: Iterable[dict[str, str]] | None = None, max_pages: int | None = None,
                 max_depth: int | None = None, per_unit_parallel: int | None = None,
                 previous: Callable[[str], dict[str, dict[str, Any]]] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units_in: Iterator[dict[str, str]] = iter(units or [])
        self._max_pages = max_pages
        self._max_depth = max_depth
        self._parallel = per_unit_parallel
        self.previous = previous
        self.states: dict[str, UnitState] = {}
        self._counter = itertools.count()
        self._ocr: bool | None = None
        self.render_contexts = ContextRotation("render", 40)
        self.shot_contexts = ContextRotation("shots", 40)

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SiteSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        pages = crawler.settings.getint("PATUH_BROWSER_CONTEXT_PAGES", 40)
        spider.render_contexts = ContextRotation("render", pages)
        spider.shot_contexts = ContextRotation("shots", pages)
        return spider

    def _setting(self, name: str, explicit: int | None, default: int) -> int:
        return int(explicit or self.settings.getint(name, default))

    @property
    def max_pages(self) -> int:
        return self._setting("PATUH_MAX_PAGES_PER_SITE", self._max_pages, 150)

    @property
    def max_depth(self) -> int:
        return self._setting("PATUH_MAX_DEPTH", self._max_depth, 6)

    @property
    def parallel(self) -> int:
        return self._setting("PATUH_PER_SITE_PARALLEL", self._parallel, 4)

    @property
    def active_units(self) -> int:
        """Units crawled at once: enough to keep every global request slot busy.

        A unit whose frontier has run dry hands its place on while its last pages are fetched and
        read, so up to twice as many units are open at a time, never more."""
        explicit = self.settings.getint("PATUH_ACTIVE_UNITS", 0)
        return explicit or max(4, 2 * self.settings.getint("CONCURRENT_REQUESTS", 32) // self.parallel)

    async def start(self) -> AsyncIterator[Any]:
        for _ in range(self.active_units):
            started = self._start_next()
            if started is None:
                break
            for out in started:
                yield out

    def _start_next(self) -> list[Any] | None:
        """Open the next unit of the list, or None when the list is exhausted."""
        unit = next(self.units_in, None)
        if unit is None:
            return None
        key, url = str(unit["key"]), unit["url"]
        budget = self.settings.getfloat("PATUH_SITE_TIME_BUDGET", 600.0)
        state = UnitState(key=key, start_url=url, host=origin(url), max_pages=self.max_pages,
                          max_depth=self.max_depth, deadline=time.monotonic() + budget)
        if self.previous is not None:
            state.previous = self.previous(key)
        self.states[key] = state
        state.seen.add(canonical(url))
        state.inflight += 1
        return [self._request(state, url, depth=0, start=True)]

    # -- requests ------------------------------------------------------------------------------
    @property
    def render_mode(self) -> str:
        return str(self.settings.get("PATUH_RENDER", "auto"))

    def _request(self, state: UnitState, url: str, depth: int, start: bool = False, anchor: str = "") -> scrapy.Request:
        is_image = url in state.image_urls
        if self.render_mode == "always" and not _is_pdf_url(url) and not is_image:
            return self._render_request(state, url, depth, start, "selalu dirender (--render always)")
        headers = {}
        prev = state.previous.get(url)
        if prev:
            if prev.get("etag"):
                headers["If-None-Match"] = prev["etag"]
            if prev.get("last_modified"):
                headers["If-Modified-Since"] = prev["last_modified"]
        return scrapy.Request(
            url, callback=self.parse, errback=self.failed, dont_filter=True, headers=headers or None,
            # not "depth": Scrapy's DepthMiddleware owns that key and counts across units
            meta={"unit": state.key, "patuh_depth": depth, "start": start, "anchor": anchor,
                  "download_slot": state.host, "image": is_image},
        )

    def _render_request(self, state: UnitState, url: str, depth: int, start: bool, reason: str,
                        fallback: dict[str, Any] | None = None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_rendered, errback=self.render_failed, dont_filter=True,
            meta={"unit": state.key, "patuh_depth": depth, "start": start, "download_slot": state.host,
                  "playwright": True, "playwright_include_page": True,
                  "playwright_context": self.render_contexts.take(), "render_reason": reason, "fallback": fallback,
                  "playwright_page_goto_kwargs": {"wait_until": "networkidle"}},
        )

    async def _release_page(self, meta: dict[str, Any], rotation: ContextRotation) -> None:
        """Close the page; close its context too once it is retired and idle."""
        page = meta.get("playwright_page")
        name = meta.get("playwright_context", "")
        retire = rotation.release(name)
        if page is None:
            return
        try:
            await page.close()
            if retire:
                await page.context.close()
        except Exception as exc:  # a browser that died has closed them already
            self.logger.debug("closing %s: %s", name, exc)

    def _offer(self, state: UnitState, url: str, anchor: str, region: str, depth: int) -> None:
        if depth > state.max_depth or url in state.offered:
            return
        # past the depth check the answer does not change: menus offer the same links on every page,
        # and they are parsed once per unit
        state.offered.add(url)
        if not url.startswith(("http://", "https://")) or len(url) > MAX_URL_LENGTH:
            return
        parts = urlparse(url)  # once: the host, the path and the canonical form all come from it
        if _netloc(parts) != state.host or SKIP_EXT.search(parts.path):
            return
        key = _canonical(parts)
        if key in state.seen or _looks_like_trap(parts.path or "/"):
            return
        state.seen.add(key)
        score = link_score(url, anchor, region, depth)
        heapq.heappush(state.frontier, (-score, next(self._counter), url, depth, anchor))

    def _offer_links(self, state: UnitState, page_url: str, reading: Reading, depth: int) -> None:
        for link, text, region in reading.links:
            self._offer(state, link, text, region, depth + 1)
        if not self.ocr_enabled:
            return
        if not NEWS_PATH.search(urlparse(page_url).path):
            taken = 0
            for src, alt, region in reading.images:
                if taken >= MAX_IMAGES_PER_PAGE:
                    break
                taken += self._offer_image(state, src, alt, region, page_url, reading.title, depth + 1)
        for link, text, _region in reading.links:  # a link straight to an image file ("Unduh infografis")
            if IMAGE_EXT.search(urlparse(link).path):
                self._offer_image(state, link, text, "main", page_url, reading.title, depth + 1)

    # -- reading (in a worker process) ---------------------------------------------------------
    @property
    def executor(self) -> workers.ProcessPool | workers.Inline:
        return workers.pool(self.settings.getint("PATUH_WORKERS", -1))

    def _archive_args(self, url: str, status: int, reason: str, headers: list[tuple[bytes, bytes]], raw: bytes,
                      fetched_at: datetime, rendered: bytes = b"") -> tuple[Any, ...] | None:
        if not self.settings.getbool("PATUH_ARCHIVE", True):
            return None
        return (self._archive_root, url, status, reason, headers, raw, fetched_at, rendered)

    @property
    def _archive_root(self) -> str:
        return str(self.settings.get("PATUH_ARCHIVE_DIR") or "data/archive")

    async def _read(self, url: str, kind: str, body: bytes, content_type: str, sha256: str, fetched_at: datetime,
                    archive: tuple[Any, ...] | None, *, links: bool, document: bool, render_check: bool = False,
                    encoding: str | None = None, revisit: tuple[Any, ...] | None = None) -> Reading:
        captured = fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            reading: Reading = await workers.run(
                self.executor, workers.read_job, url, kind, body, content_type, sha256, captured,
                archive if document else None, links=links, document=document, render_check=render_check,
                encoding=encoding, revisit=revisit)
            return reading
        except Exception as exc:  # a worker that died: this page is lost, not the sweep
            self.logger.warning("reading %s failed: %s", url, exc)
            return Reading(error=f"dokumen tidak dapat dibaca: {type(exc).__name__}")

    def _revisit_args(self, url: str, fetched_at: datetime, prev: dict[str, Any], sha256: str, status: int,
                      reason: str, headers: list[tuple[bytes, bytes]]) -> tuple[Any, ...] | None:
        """The arguments of `workers.revisit_job` for a body an earlier visit archived, or None (no
        archive, or no earlier record: storage then archives what it can)."""
        if not prev.get("warc_record") or not self.settings.getbool("PATUH_ARCHIVE", True):
            return None
        return (self._archive_root, url, fetched_at, prev["warc_record"], sha256, status, reason, headers)

    @property
    def ocr_enabled(self) -> bool:
        if self._ocr is None:
            wanted = self.settings.getbool("PATUH_OCR", True)
            self._ocr = wanted and _ocr_available()
        return self._ocr

    def _offer_image(self, state: UnitState, src: str, alt: str, region: str, page_url: str, page_title: str,
                     depth: int) -> bool:
        """Queue an image that may carry service information as text (an infographic, a photo of the
        maklumat, an alur chart); logos, banners and news photos are left alone."""
        if region != "main" or origin(src) != state.host or not IMAGE_EXT.search(urlparse(src).path):
            return False
        if state.images >= self.settings.getint("PATUH_MAX_IMAGES_PER_SITE", 30):
            return False
        key = canonical(src)
        if key in state.seen:
            return False
        score = image_score(src, alt, page_url, page_title)
        if score <= 0:
            return False
        state.seen.add(key)
        state.images += 1
        heapq.heappush(state.frontier, (-score, next(self._counter), src, depth, f"[gambar] {alt}"))
        state.image_urls.add(src)
        return True

    def _seed_from_previous(self, state: UnitState) -> Iterator[Any]:
        """Known pages of the last sweep: due ones join the frontier, the others are reused as stored."""
        now = datetime.now(UTC)
        days = self.settings.getint("PATUH_REVISIT_DAYS", 7)
        reused: list[PageItem] = []
        for url, prev in sorted(state.previous.items(), key=lambda kv: kv[1].get("depth", 0)):
            if origin(url) != state.host or canonical(url) in state.seen:
                continue
            if state.fetched + state.reused + len(state.frontier) >= state.max_pages:
                break
            if revisit_due(url, prev, now, days):
                self._offer(state, url, "", "main", int(prev.get("depth", 1)))
            else:
                state.seen.add(canonical(url))
                state.reused += 1
                reused.append(PageItem(unit=state.key, url=url, final_url=url, status=200, content_type="",
                                       kind=prev["kind"], sha256=prev["sha256"], size=0,
                                       depth=int(prev.get("depth", 1)), fetched_at=now, reused="revisit",
                                       reused_from=prev["id"], refers_to=prev.get("warc_record")))
        if reused:
            state.items += len(reused)
            yield ReusedPages(unit=state.key, pages=reused)

    @staticmethod
    def _item(state: UnitState, **fields: Any) -> PageItem:
        state.items += 1
        return PageItem(**fields)

    def _pump(self, state: UnitState) -> Iterator[Any]:
        """Schedule the best links while the unit has budget, or finish the unit."""
        if not state.out_of_time and time.monotonic() > state.deadline:
            state.out_of_time = True
            state.frontier.clear()
            self.logger.warning("time budget spent for %s; crawl of this site ends here", state.start_url)
        while state.frontier and state.inflight < self.parallel and not _budget_spent(state):
            neg, _, url, depth, anchor = heapq.heappop(state.frontier)
            if -neg <= 0:  # not worth a request at all
                continue
            p = urlparse(url)
            if p.query:  # the best-ranked variants of a path are fetched; calendar and session traps end here
                variants = state.query_variants.get(p.path, 0)
                if variants >= MAX_QUERY_VARIANTS:
                    continue
                state.query_variants[p.path] = variants + 1
            state.inflight += 1
            yield self._request(state, url, depth, anchor=anchor)
        if state.inflight == 0 and not state.done:
            state.done = True
            yield UnitDone(unit=state.key, reachable=bool(state.reachable), error=state.error, https=state.https,
                           pages_fetched=state.fetched + state.reused, errors=state.errors, items=state.items)
            self.states.pop(state.key, None)
            if not state.handed_on:
                yield from self._start_next() or ()
        elif not state.handed_on and state.fetched and self._winding_down(state) \
                and len(self.states) < 2 * self.active_units:
            # units of one list start together and end together: without this, every unit that starts
            # waits on its robots.txt, home page and first reading while the others finish, and both
            # cores idle (a fifth of the time on the benchmarks/ farm)
            state.handed_on = True
            yield from self._start_next() or ()

    def _winding_down(self, state: UnitState) -> bool:
        """Nothing more to request for now: only the pages in flight are left of the unit."""
        return not state.frontier or state.out_of_time or _budget_spent(state)

    # -- responses -----------------------------------------------------------------------------
    async def parse(self, response: Response) -> AsyncIterator[Any]:
        state = self.states[response.meta["unit"]]
        start = response.meta.get("start", False)
        depth = int(response.meta.get("patuh_depth", 0))
        raw_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        ctype = raw_type.split(";")[0].strip().lower()
        if start:
            state.host = origin(response.url)  # an ordinary redirect (http -> https, www.) moves the site
            state.https = response.url.startswith("https://")
        final = canonical(response.url)
        if origin(response.url) != state.host or final in state.fetched_final:
            # redirected off-site (not this unit's content), or reached again through a redirect
            state.inflight -= 1
            for out in self._pump(state):
                yield out
            return
        state.fetched_final.add(final)
        state.seen.add(final)
        state.fetched += 1
        url = response.request.url if response.request else response.url
        prev = state.previous.get(url)
        now = datetime.now(UTC)
        if response.status == 304 and prev:
            headers = _headers(response)
            state.inflight -= 1
            if start:
                state.reachable = prev["kind"] == "html"
            yield self._item(state, unit=state.key, url=url, final_url=response.url, status=304, content_type=ctype,
                             kind=prev["kind"], sha256=prev["sha256"], size=0, depth=depth, fetched_at=now,
                             reused="304", reused_from=prev["id"], headers=headers, reason="Not Modified",
                             refers_to=prev.get("warc_record"))
            if start:
                for out in self._seed_from_previous(state):
                    yield out
            for out in self._pump(state):
                yield out
            return
        body = response.body
        kind = "other"
        if ctype in PDF_TYPES or body[:5] == b"%PDF-":
            kind = "pdf"
        elif ctype.startswith("image/") and response.meta.get("image"):
            kind = "image"
        elif isinstance(response, TextResponse) and ("html" in ctype or not ctype or (ctype == "text/plain"
                                                     and b"<html" in body[:2000].lower())):
            kind = "html"
        if start:
            state.reachable = kind == "html"
            if not state.reachable:
                state.error = f"halaman awal bukan HTML ({ctype or 'tanpa Content-Type'})"
        sha = hashlib.sha256(body).hexdigest()
        same = prev is not None and prev.get("sha256") == sha
        headers = _headers(response)
        status_reason = _reason(response.status)
        etag, modified = _header(response, b"ETag"), _header(response, b"Last-Modified")
        want_links = kind == "html" and bool(state.reachable or not start)
        want_doc = not same and kind in READ_KINDS
        reading = Reading()
        # the worker that reads an unchanged page's links also writes its revisit record
        revisit = self._revisit_args(response.url, now, prev, sha, response.status, status_reason,
                                     headers) if same and prev and want_links else None
        if want_links or want_doc:
            # the unit stays in flight while a worker reads the page: it cannot end meanwhile
            reading = await self._read(
                response.url, kind, body, raw_type, sha, now,
                self._archive_args(response.url, response.status, status_reason, headers, body, now),
                links=want_links, document=want_doc,
                render_check=kind == "html" and not same and self.render_mode == "auto", revisit=revisit)
        state.inflight -= 1
        if reading.render_reason:
            # read it as a browser shows it; the plain copy stands if the browser fails
            state.inflight += 1
            fallback = {"url": url, "final_url": response.url, "status": response.status, "content_type": ctype,
                        "raw_type": raw_type, "headers": headers, "sha256": sha, "size": len(body), "body": body,
                        "etag": etag, "last_modified": modified}
            yield self._render_request(state, url, depth, start, reading.render_reason, fallback)
            if start and state.reachable:
                for out in self._seed_from_previous(state):
                    yield out
            self._offer_links(state, response.url, reading, depth)
            for out in self._pump(state):
                yield out
            return
        yield self._item(
            state, unit=state.key, url=url, final_url=response.url, status=response.status, content_type=ctype,
            kind=kind, sha256=sha, size=len(body), depth=depth, fetched_at=now,
            body=body if kind == "other" else b"", etag=etag, last_modified=modified,
            reused="sha256" if same else None, reused_from=prev["id"] if same and prev else None,
            headers=headers, reason=status_reason, raw_body=body if same else b"",
            refers_to=prev.get("warc_record") if same and prev else None, **_read_fields(reading, want_doc),
        )
        if start and state.reachable:
            # before the start page's own links, so that known pages follow the revisit policy
            for out in self._seed_from_previous(state):
                yield out
        self._offer_links(state, response.url, reading, depth)
        for out in self._pump(state):
            yield out

    async def parse_rendered(self, response: Response) -> AsyncIterator[Any]:
        """A page as Chromium shows it after its scripts ran (document kind `js`)."""
        await self._release_page(response.meta, self.render_contexts)
        state = self.states.get(response.meta["unit"])
        if state is None:
            return
        start = response.meta.get("start", False)
        depth = int(response.meta.get("patuh_depth", 0))
        fallback = response.meta.get("fallback") or {}
        if start and not fallback:
            state.host = origin(response.url)
            state.https = response.url.startswith("https://")
            state.reachable = response.status == 200
        if not fallback:
            state.fetched += 1
        html = response.text if isinstance(response, TextResponse) else ""
        body = html.encode("utf-8")
        now = datetime.now(UTC)
        status = fallback.get("status", response.status)
        headers = fallback.get("headers") or _headers(response)
        raw = fallback.get("body", b"")
        sha = fallback.get("sha256") or hashlib.sha256(body).hexdigest()
        archive = self._archive_args(response.url, status, _reason(status), headers, raw or body, now,
                                     body if raw else b"")
        reading = await self._read(response.url, "js", body, "text/html; charset=utf-8", sha, now, archive,
                                   links=True, document=True, encoding="utf-8")
        state.inflight -= 1
        yield self._item(
            state, unit=state.key, url=fallback.get("url", response.url), final_url=response.url,
            status=status, content_type="text/html", kind="js",
            sha256=sha, size=fallback.get("size", len(body)), depth=depth, fetched_at=now,
            etag=fallback.get("etag"), last_modified=fallback.get("last_modified"),
            render_reason=response.meta.get("render_reason"), headers=headers, reason=_reason(status),
            **_read_fields(reading, True),
        )
        self._offer_links(state, response.url, reading, depth)
        for out in self._pump(state):
            yield out

    async def take_screenshot(self, response: Response) -> AsyncIterator[Any]:
        """A PNG of a page that carries evidence, as Chromium shows it (bounded in size)."""
        page = response.meta.get("playwright_page")
        if page is None:
            return
        try:
            height = await page.evaluate("() => Math.min(document.documentElement.scrollHeight, 8000)")
            png = await page.screenshot(type="png", full_page=True,
                                        clip={"x": 0, "y": 0, "width": 1280, "height": max(int(height), 200)})
        finally:
            await self._release_page(response.meta, self.shot_contexts)
        yield ScreenshotItem(visit_id=int(response.meta["screenshot_visit"]), url=response.meta["screenshot_url"],
                             page_sha256=response.meta["screenshot_page_sha256"], png=png)

    async def screenshot_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        await self._release_page(request.meta, self.shot_contexts)
        self.logger.warning("no screenshot of %s: %s", request.url, describe_failure(failure))

    async def render_failed(self, failure: Failure) -> AsyncIterator[Any]:
        """The browser could not render: keep the plain HTML when there is one."""
        request = failure.request  # type: ignore[attr-defined]
        await self._release_page(request.meta, self.render_contexts)
        fallback = request.meta.get("fallback")
        state = self.states.get(request.meta.get("unit"))
        if not fallback or state is None:
            for out in self.failed(failure):
                yield out
            return
        self.logger.warning("render failed for %s (%s); the plain HTML is read", request.url,
                            describe_failure(failure))
        now = datetime.now(UTC)
        status = fallback["status"]
        archive = self._archive_args(fallback["final_url"], status, _reason(status), fallback.get("headers") or [],
                                     fallback["body"], now)
        reading = await self._read(fallback["final_url"], "html", fallback["body"], fallback.get("raw_type", ""),
                                   fallback["sha256"], now, archive, links=False, document=True)
        state.inflight -= 1
        yield self._item(
            state, unit=state.key, url=fallback["url"], final_url=fallback["final_url"], status=status,
            content_type=fallback["content_type"], kind="html", sha256=fallback["sha256"], size=fallback["size"],
            depth=int(request.meta.get("patuh_depth", 0)), fetched_at=now, etag=fallback["etag"],
            last_modified=fallback["last_modified"], render_reason=f"render gagal: {describe_failure(failure)}",
            headers=fallback.get("headers"), reason=_reason(status), **_read_fields(reading, True),
        )
        for out in self._pump(state):
            yield out

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        state = self.states.get(request.meta.get("unit"))
        if state is None:
            return
        state.inflight -= 1
        state.failed += 1
        reason = describe_failure(failure)
        if reason != "robots":  # a page the site asks us not to read is policy, not an error
            state.errors += 1
        if request.meta.get("start"):
            state.reachable = False
            state.error = reason
        yield self._item(state, unit=state.key, url=request.url, final_url=request.url, status=_status(failure),
                       content_type="", kind="other", sha256="", size=0, depth=int(request.meta.get("patuh_depth", 0)),
                       fetched_at=datetime.now(UTC), error=reason)
        yield from self._pump(state)


def _budget_spent(state: UnitState) -> bool:
    """Every page of the unit's budget is fetched, reused, failed or in flight."""
    return state.fetched + state.reused + state.failed + state.inflight >= state.max_pages


def _read_fields(reading: Reading, read: bool) -> dict[str, Any]:
    """The PageItem fields of a worker's reading: when the document was not to be read, only the
    revisit record it may have written."""
    if not read:
        return {"warc_record": reading.warc_record} if reading.warc_record else {}
    return {"read": True, "document": reading.document, "hits": reading.hits,
            "warc_record": reading.warc_record, "error": reading.error}


def _headers(response: Response) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, values in response.headers.items() for v in values][:200]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1")[:300] if value else None


def _status(failure: Failure) -> int:
    response = getattr(failure.value, "response", None)
    return int(response.status) if response is not None else 0


def describe_failure(failure: Failure) -> str:
    """A short reason a person can read: DNS, refused, timeout, HTTP 500, redirect loop, TLS, robots."""
    from scrapy.exceptions import IgnoreRequest
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.internet import error as neterr

    exc = failure.value
    request = getattr(failure, "request", None)
    if request is not None and (why := netguard.refusal(urlparse(request.url).hostname)):
        return why
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    text = str(exc).lower()
    if "max size" in text or "download_maxsize" in text:
        return "terlalu besar (melebihi DOWNLOAD_MAXSIZE)"
    if isinstance(exc, IgnoreRequest):
        if "redirect" in text:
            return "redirect loop"
        if "robots" in text:
            return "robots"
        return f"permintaan diabaikan: {exc}"[:200]
    if isinstance(exc, neterr.DNSLookupError) or "resolvehost" in type(exc).__name__.lower():
        return "DNS"
    if isinstance(exc, neterr.ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (neterr.TimeoutError, neterr.TCPTimedOutError)) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    if "ssl" in type(exc).__name__.lower() or "tls" in str(exc).lower():
        return "TLS"
    return f"{type(exc).__name__}: {exc}"[:200]


def screenshot_request(spider: SiteSpider, visit_id: int, url: str, page_sha256: str) -> scrapy.Request:
    return scrapy.Request(
        url, callback=spider.take_screenshot, errback=spider.screenshot_failed, dont_filter=True, priority=-10,
        meta={"playwright": True, "playwright_include_page": True, "screenshot_visit": visit_id,
              "screenshot_url": url, "screenshot_page_sha256": page_sha256,
              "playwright_context": spider.shot_contexts.take(),
              "playwright_context_kwargs": {"viewport": {"width": 1280, "height": 800}},
              "playwright_page_goto_kwargs": {"wait_until": "load"}},
    )
