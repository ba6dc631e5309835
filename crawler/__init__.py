"""The Scrapy project of Patuh: settings, CLI, pipelines and the crawl runner."""

import os

# tldextract (used by Scrapy's cookie handling) would fetch the public suffix list with no timeout;
# an empty list of URLs makes it use the bundled copy (STACK.md).
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
# onnxruntime (the OCR engine) would send telemetry from native code unless told not to before its import
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
