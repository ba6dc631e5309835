"""scrapy-playwright's download handler, started on the first page that goes through the browser.

The stock handler starts Playwright's driver when the engine starts. Most sweeps render few pages
or none (the farm of benchmarks/: none of 30,000), and the driver costs every run ~0.6 s before its
first request and ~145 MB while it idles, so it is started only when a request asks for it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler
from twisted.internet import defer


class LazyPlaywrightHandler(ScrapyPlaywrightDownloadHandler):
    """Plain requests pass straight to Scrapy's HTTP handler; Playwright starts with the first
    `meta["playwright"]` request."""

    _started = False
    _start_lock: asyncio.Lock | None = None

    async def _maybe_launch_in_thread(self) -> None:  # engine started: nothing to launch yet
        return None

    def _engine_started(self) -> defer.Deferred[Any]:
        return defer.succeed(None)

    async def _download_request(self, request: Request, spider: Spider | None = None) -> Response:
        if not self._started:
            if self._start_lock is None:
                self._start_lock = asyncio.Lock()
            async with self._start_lock:
                if not self._started:
                    await self._launch()
                    self._started = True
        return await super()._download_request(request, spider)
