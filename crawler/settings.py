"""Scrapy settings of Patuh, polite by default. Every `PATUH_*` setting can be overridden with `-s`."""

from __future__ import annotations

BOT_NAME = "patuh"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = "PatuhBot/0.1 (+https://github.com/patuh; pemeriksa kepatuhan pelayanan publik)"
ROBOTSTXT_OBEY = True
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.0
AUTOTHROTTLE_ENABLED = False
DOWNLOAD_TIMEOUT = 20
DOWNLOAD_MAXSIZE = 15 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 1
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False
HTTPERROR_ALLOWED_CODES = [304]  # answers to our conditional requests
# Scrapy starts this many asyncio tasks for every response it parses (its default, 100, cost 1.5 ms
# of the reactor's CPU per page, measured in benchmarks/); a response yields a handful of outputs
CONCURRENT_ITEMS = 4
DEPTH_LIMIT = 0  # the spider keeps its own per-site depth limit
LOG_LEVEL = "WARNING"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {"crawler.pipelines.StoragePipeline": 300}
# Scrapy components that cost the reactor CPU on every request or output and do nothing Patuh needs:
# the spider keeps its own depth and URL-length limits and sends no Referer; nothing reads Scrapy's
# stats (the progress display counts for itself). A re-sweep is bound by the reactor (benchmarks/)
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # no allowed_domains: the spider decides
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
}
EXTENSIONS = {
    "scrapy.extensions.corestats.CoreStats": None,
    "scrapy.extensions.logstats.LogStats": None,
}
# Scrapy's HTTP/1.1 handler, and scrapy-playwright's for pages that must be rendered (started on the first)
DOWNLOAD_HANDLERS = {
    "http": "crawler.playwright_handler.LazyPlaywrightHandler",
    "https": "crawler.playwright_handler.LazyPlaywrightHandler",
}

# Patuh's own settings
PATUH_MAX_PAGES_PER_SITE = 150
PATUH_MAX_DEPTH = 6
PATUH_PER_SITE_PARALLEL = 4
PATUH_DATABASE_URL = ""  # empty: PATUH_DATABASE_URL from the environment, else ./data/patuh.db
PATUH_SWEEP_ID = 0
PATUH_PAGE_BATCH = 50
PATUH_SITE_TIME_BUDGET = 600.0  # seconds per site; then its crawl ends with what it has
PATUH_ACTIVE_UNITS = 0  # units crawled at once; 0: 2 x CONCURRENT_REQUESTS / PATUH_PER_SITE_PARALLEL
PATUH_REVISIT_DAYS = 7  # a page unchanged and without evidence is refetched at least this often
PATUH_WORKERS = -1  # processes that read pages and judge units; -1: one per core; 0: inline
PATUH_STORAGE_PROCESS = True  # rows are written by a process of their own; False: by a thread of the sweep
PATUH_RENDER = "auto"  # auto: render only pages that need it; always; never
PATUH_SCREENSHOTS = "evidence"  # PNG of every page carrying evidence of a present finding; "none" to skip
PATUH_SCREENSHOT_DIR = "data/screenshots"
PATUH_ARCHIVE = True  # every response into WARC files
PATUH_ARCHIVE_DIR = "data/archive"
PATUH_IDLE_CONNECTION_TIMEOUT = 15  # seconds an idle keep-alive connection stays open (Twisted: 240)
PATUH_PUBLIC_ONLY = False  # True: never connect to private/loopback/link-local addresses (web self-checks)
PATUH_BROWSER_CONTEXT_PAGES = 40  # a browser context serves this many pages, then it is closed
