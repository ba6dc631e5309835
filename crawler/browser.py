"""Chromium for the pages that need it: scrapy-playwright on the system browser, never downloaded.

Only requests marked `meta["playwright"] = True` go through the browser; everything else stays
plain HTTP. Playwright and the browser start on the first such request
(`crawler.playwright_handler`), and scrapy-playwright restarts the browser when it crashes. Inside
the browser, a page may load its own site's scripts, data and images; other hosts, media and fonts
are refused (no third-party traffic, bounded cost).
"""

from __future__ import annotations

import shutil
from typing import Any
from urllib.parse import urlparse

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
BLOCKED_TYPES = {"media", "font", "websocket", "eventsource", "manifest", "texttrack"}


def chromium_path() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if shutil.which(candidate):
            return candidate
    return shutil.which("chromium")


def playwright_settings() -> dict[str, Any]:
    """Scrapy settings that enable rendering; empty when no system Chromium is installed."""
    path = chromium_path()
    if path is None:
        return {}
    return {  # the download handler (crawler.settings) starts Playwright with the first page it renders
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": path, "headless": True, "args": CHROMIUM_ARGS},
        "PLAYWRIGHT_MAX_CONTEXTS": 4,  # rendering and screenshots: the one in use and one retiring, each
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 2,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": 20_000,
        "PLAYWRIGHT_ABORT_REQUEST": "crawler.browser.abort_request",
        "PLAYWRIGHT_RESTART_DISCONNECTED_BROWSER": True,
    }


def _origin(url: str) -> str:
    p = urlparse(url)
    return f"{p.scheme}://{p.hostname}:{p.port}"


def abort_request(request: Any) -> bool:
    """Refuse heavy resource types and anything not from the page's own site."""
    if request.resource_type in BLOCKED_TYPES:
        return True
    try:
        page_url = request.frame.page.url
    except Exception:  # a request without a frame (a worker): judge by nothing else
        return False
    if not page_url or page_url == "about:blank":
        return False
    return _origin(request.url) != _origin(page_url)


class ContextRotation:
    """Browser contexts that each serve at most `pages` pages and are then closed, so that a long
    sweep's cookies, caches and renderer memory never pile up in one context."""

    def __init__(self, prefix: str, pages: int) -> None:
        self.prefix = prefix
        self.pages = max(1, pages)
        self.generation = 0
        self.used = 0
        self.inflight: dict[str, int] = {}

    def take(self) -> str:
        """The context for the next page."""
        if self.used >= self.pages:
            self.generation += 1
            self.used = 0
        self.used += 1
        name = f"{self.prefix}-{self.generation}"
        self.inflight[name] = self.inflight.get(name, 0) + 1
        return name

    def release(self, name: str) -> bool:
        """A page of `name` is done; True when that context is retired and idle, to be closed now."""
        left = self.inflight.get(name, 1) - 1
        if left > 0 or name == f"{self.prefix}-{self.generation}":
            self.inflight[name] = max(left, 0)
            return False
        self.inflight.pop(name, None)
        return True
