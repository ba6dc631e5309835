"""The one spider: a best-first crawl of each unit's own site, any number of units at once.

Each unit keeps its own frontier (a heap of links ranked by how likely they lead to service
information), its own seen-set and page budget, and a small number of requests in flight. When
a unit has nothing left in flight and nothing worth fetching, its crawl is over and the spider
emits a `UnitDone` item, so the pipeline can judge that unit and drop its state while other
units are still crawling. The spider decides what to fetch; it judges nothing.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from checks.document import Document
from checks.extract_html import extract_html
from checks.extract_pdf import extract_pdf
from crawler.items import PageItem, UnitDone
from spiders.ranking import link_score

PDF_TYPES = ("application/pdf", "application/x-pdf")
SKIP_EXT = re.compile(
    r"\.(?:jpe?g|png|gif|webp|bmp|svg|ico|css|js|json|xml|rss|atom|zip|rar|7z|gz|tar|mp3|mp4|avi|mov|wmv|"
    r"docx?|xlsx?|pptx?|apk|exe|woff2?|ttf|eot)$",
    re.I,
)
SESSION_PARAMS = re.compile(r"^(?:phpsessid|sid|sessionid|jsessionid|utm_\w+|fbclid|gclid|replytocom|share)$", re.I)
MAX_QUERY_VARIANTS = 8  # per path: calendar and session-id traps are cut here


def canonical(url: str) -> str:
    """The URL without fragment, tracking/session parameters, default port; sorted query."""
    p = urlparse(url)
    query = urlencode(sorted((k, v) for k, v in parse_qsl(p.query, keep_blank_values=True)
                             if not SESSION_PARAMS.match(k)))
    netloc = (p.hostname or "").lower()
    if p.port and not ((p.scheme == "http" and p.port == 80) or (p.scheme == "https" and p.port == 443)):
        netloc += f":{p.port}"
    return urlunparse((p.scheme.lower(), netloc, p.path or "/", "", query, ""))


def origin(url: str) -> str:
    p = urlparse(url)
    netloc = (p.hostname or "").lower()
    if p.port:
        netloc += f":{p.port}"
    return netloc


@dataclass
class UnitState:
    key: str
    start_url: str
    host: str
    max_pages: int
    max_depth: int
    frontier: list[tuple[float, int, str, int, str]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    query_variants: dict[str, int] = field(default_factory=dict)
    inflight: int = 0
    fetched: int = 0
    start_done: bool = False
    reachable: bool | None = None
    error: str | None = None
    https: bool = False
    errors: int = 0
    done: bool = False


class SiteSpider(scrapy.Spider):
    name = "site"
    custom_settings: dict[str, Any] = {}

    def __init__(self, units: list[dict[str, str]] | None = None, max_pages: int | None = None,
                 max_depth: int | None = None, per_unit_parallel: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units_in = units or []
        self._max_pages = max_pages
        self._max_depth = max_depth
        self._parallel = per_unit_parallel
        self.states: dict[str, UnitState] = {}
        self._counter = itertools.count()

    @property
    def max_pages(self) -> int:
        return int(self._max_pages or self.settings.getint("PATUH_MAX_PAGES_PER_SITE", 150))

    @property
    def max_depth(self) -> int:
        return int(self._max_depth or self.settings.getint("PATUH_MAX_DEPTH", 6))

    @property
    def parallel(self) -> int:
        return int(self._parallel or self.settings.getint("PATUH_PER_SITE_PARALLEL", 4))

    async def start(self) -> AsyncIterator[Any]:
        for unit in self.units_in:
            key, url = str(unit["key"]), unit["url"]
            state = UnitState(key=key, start_url=url, host=origin(url), max_pages=self.max_pages,
                              max_depth=self.max_depth)
            self.states[key] = state
            state.seen.add(canonical(url))
            state.inflight += 1
            yield self._request(state, url, depth=0, start=True)

    # -- requests ------------------------------------------------------------------------------
    def _request(self, state: UnitState, url: str, depth: int, start: bool = False, anchor: str = "") -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse, errback=self.failed, dont_filter=True,
            meta={"unit": state.key, "depth": depth, "start": start, "anchor": anchor,
                  "download_slot": state.host},
        )

    def _offer(self, state: UnitState, url: str, anchor: str, region: str, depth: int) -> None:
        if depth > state.max_depth or not url.startswith(("http://", "https://")):
            return
        if origin(url) != state.host or SKIP_EXT.search(urlparse(url).path):
            return
        key = canonical(url)
        if key in state.seen:
            return
        p = urlparse(key)
        if p.query:
            variants = state.query_variants.get(p.path, 0)
            if variants >= MAX_QUERY_VARIANTS:
                return
            state.query_variants[p.path] = variants + 1
        state.seen.add(key)
        score = link_score(url, anchor, region, depth)
        heapq.heappush(state.frontier, (-score, next(self._counter), url, depth, anchor))

    def _pump(self, state: UnitState) -> Iterator[Any]:
        """Schedule the best links while the unit has budget, or finish the unit."""
        while state.frontier and state.inflight < self.parallel and state.fetched + state.inflight < state.max_pages:
            neg, _, url, depth, anchor = heapq.heappop(state.frontier)
            if -neg <= 0:  # not worth a request at all
                continue
            state.inflight += 1
            yield self._request(state, url, depth, anchor=anchor)
        if state.inflight == 0 and not state.done:
            state.done = True
            yield UnitDone(unit=state.key, reachable=bool(state.reachable), error=state.error, https=state.https,
                           pages_fetched=state.fetched, errors=state.errors)
            self.states.pop(state.key, None)

    # -- responses -----------------------------------------------------------------------------
    def parse(self, response: Response) -> Iterator[Any]:
        state = self.states[response.meta["unit"]]
        state.inflight -= 1
        start = response.meta.get("start", False)
        depth = int(response.meta.get("depth", 0))
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").split(";")[0].strip().lower()
        if start:
            state.host = origin(response.url)  # an ordinary redirect (http -> https, www.) moves the site
            state.https = response.url.startswith("https://")
        if origin(response.url) != state.host:
            yield from self._pump(state)  # redirected off-site: not this unit's content
            return
        state.fetched += 1
        doc: Document | None = None
        kind = "other"
        if ctype in PDF_TYPES or response.body[:5] == b"%PDF-":
            kind = "pdf"
            doc = extract_pdf(response.url, response.body)
        elif isinstance(response, TextResponse) and ("html" in ctype or not ctype or (ctype == "text/plain"
                                                     and b"<html" in response.body[:2000].lower())):
            kind = "html"
            doc = extract_html(response.url, response.text)
        if start:
            if kind == "html":
                state.reachable = True
            else:
                state.reachable = False
                state.error = f"halaman awal bukan HTML ({ctype or 'tanpa Content-Type'})"
        sha = hashlib.sha256(response.body).hexdigest()
        now = datetime.now(UTC)
        if doc is not None:
            doc.sha256 = sha
            doc.captured_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        yield PageItem(
            unit=state.key, url=response.request.url if response.request else response.url,
            final_url=response.url, status=response.status, content_type=ctype, kind=kind, sha256=sha,
            size=len(response.body), depth=depth, fetched_at=now, document=doc,
            etag=_header(response, b"ETag"), last_modified=_header(response, b"Last-Modified"),
        )
        if doc is not None and kind == "html" and (state.reachable or not start):
            for link in doc.links:
                self._offer(state, link.url, link.text, link.region, depth + 1)
            for extra in [doc.meta.get("refresh"), *(doc.meta.get("frames") or [])]:
                if isinstance(extra, str):
                    self._offer(state, extra, "", "main", depth + 1)
        yield from self._pump(state)

    def failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        state = self.states.get(request.meta.get("unit"))
        if state is None:
            return
        state.inflight -= 1
        state.errors += 1
        reason = describe_failure(failure)
        if request.meta.get("start"):
            state.reachable = False
            state.error = reason
        yield PageItem(unit=state.key, url=request.url, final_url=request.url, status=_status(failure),
                       content_type="", kind="other", sha256="", size=0, depth=int(request.meta.get("depth", 0)),
                       fetched_at=datetime.now(UTC), document=None, error=reason)
        yield from self._pump(state)


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
    if isinstance(exc, HttpError):
        return f"HTTP {exc.response.status}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc).lower()
        if "redirect" in text:
            return "redirect loop"
        if "robots" in text:
            return "robots"
        return f"permintaan diabaikan: {exc}"[:200]
    if isinstance(exc, neterr.DNSLookupError):
        return "DNS"
    if isinstance(exc, neterr.ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (neterr.TimeoutError, neterr.TCPTimedOutError)) or "timeout" in type(exc).__name__.lower():
        return "timeout"
    if "ssl" in type(exc).__name__.lower() or "tls" in str(exc).lower():
        return "TLS"
    return f"{type(exc).__name__}: {exc}"[:200]
