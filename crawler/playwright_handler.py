"""The download handler of Patuh: Scrapy's HTTP handler, and scrapy-playwright's from the first page
that goes through the browser.

The stock scrapy-playwright handler starts Playwright's driver when the engine starts. Most sweeps
render few pages or none (the farm of benchmarks/: none of 30,000), and the driver costs every run
~0.6 s before its first request and ~145 MB while it idles; importing Playwright alone costs every
run ~0.2 s (an unchanged re-sweep of 100 units takes ~3 s). So plain requests go to Scrapy's own
HTTP/1.1 handler, and scrapy-playwright is imported, built and started with the first
`meta["playwright"]` request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.http import Response


class LazyPlaywrightHandler:
    """Plain requests pass straight to Scrapy's HTTP handler; Playwright starts with the first
    `meta["playwright"]` request."""

    lazy = False  # built with the engine: it is every http(s) request's handler

    def __init__(self, crawler: Crawler) -> None:
        self._crawler = crawler
        self._http = HTTP11DownloadHandler.from_crawler(crawler)
        # a site's pages come milliseconds apart while it is crawled, and never again once its crawl
        # ended: Twisted's default keeps every idle connection 240 s, which at 9 sites a second holds
        # thousands of sockets (and their buffers) to servers we are done with
        self._http._pool.cachedConnectionTimeout = crawler.settings.getint("PATUH_IDLE_CONNECTION_TIMEOUT", 15)
        self._browser: Any = None
        self._start_lock: asyncio.Lock | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LazyPlaywrightHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        if request.meta.get("playwright"):
            browser = await self._browser_handler()
            response: Response = await browser.download_request(request)
            return response
        return await self._http.download_request(request)

    async def _browser_handler(self) -> Any:
        if self._browser is None:
            if self._start_lock is None:
                self._start_lock = asyncio.Lock()
            async with self._start_lock:
                if self._browser is None:
                    from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                    # built after the engine started: its engine_started hook never runs, so start it here
                    handler = ScrapyPlaywrightDownloadHandler.from_crawler(self._crawler)
                    await handler._launch()
                    self._browser = handler
        return self._browser

    async def close(self) -> None:
        await self._http.close()
        if self._browser is not None:
            await self._browser.close()
