"""Fast link extraction for the crawl frontier (selectolax/lexbor: a tenth of lxml's cost).

The full `Document` is built in a worker process; the spider only needs each link's URL, anchor
text and the page region it sits in, to rank it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin

from selectolax.lexbor import LexborHTMLParser

MAX_LINKS = 2_000
MAX_CHARS = 2_000_000
_REGION_SELECTORS = [
    (f"{scope} {target}", region)
    for scope, region in [
        ("footer", "footer"), ("[role=contentinfo]", "footer"), ("[class*=footer]", "footer"),
        ("[id*=footer]", "footer"), ("[class*=colophon]", "footer"), ("nav", "nav"), ("[role=navigation]", "nav"),
        ("[class*=menu]", "nav"),
        ("[class*=navbar]", "nav"), ("[id*=menu]", "nav"), ("[class*=breadcrumb]", "nav"), ("aside", "aside"),
        ("[class*=sidebar]", "aside"), ("[class*=widget-area]", "aside"), ("header", "header"),
        ("[class*=masthead]", "header"), ("[class*=site-header]", "header"),
    ]
    for target in ("a[href]", "img")
]
_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\">\s]+)", re.I)


@dataclass(slots=True)
class PageOutline:
    title: str
    links: list[tuple[str, str, str]]  # absolute URL, anchor text, region
    images: list[tuple[str, str, str]]  # absolute src, alt/title text, region


def outline(url: str, html: str) -> PageOutline:
    """Links, images and title of a page, read in one fast parse."""
    tree = LexborHTMLParser(html[:MAX_CHARS])
    base_el = tree.css_first("base[href]")
    base = urljoin(url, base_el.attributes.get("href") or "") if base_el else url
    # regions by CSS in lexbor's C code, not by walking every link's ancestors in Python
    regions: dict[int, str] = {}
    for selector, region in _REGION_SELECTORS:
        for node in tree.css(selector):
            regions.setdefault(node.mem_id, region)
    out: list[tuple[str, str, str]] = []
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        text = a.text(deep=True, separator=" ", strip=True)
        if not text:
            img = a.css_first("img")
            text = (img.attributes.get("alt") or "") if img else ""
        try:
            absolute = urldefrag(urljoin(base, href))[0]
        except ValueError:
            continue
        out.append((absolute, text[:200], regions.get(a.mem_id, "main")))
        if len(out) >= MAX_LINKS:
            break
    for frame in tree.css("iframe[src], frame[src]"):
        src = frame.attributes.get("src") or ""
        if src:
            out.append((urljoin(base, src), "", "main"))
    for meta in tree.css("meta[http-equiv]"):
        if (meta.attributes.get("http-equiv") or "").lower() == "refresh":
            m = _REFRESH.search(meta.attributes.get("content") or "")
            if m:
                out.append((urljoin(base, m.group(1)), "", "main"))
    images: list[tuple[str, str, str]] = []
    for img in tree.css("img"):
        src = (img.attributes.get("src") or img.attributes.get("data-src") or "").strip()
        if not src or src.startswith("data:"):
            continue
        try:
            absolute = urljoin(base, src)
        except ValueError:
            continue
        alt = (img.attributes.get("alt") or img.attributes.get("title") or "")[:200]
        images.append((absolute, alt, regions.get(img.mem_id, "main")))
        if len(images) >= MAX_LINKS:
            break
    title_el = tree.css_first("h1") or tree.css_first("title")
    title = title_el.text(deep=True, strip=True)[:200] if title_el else ""
    return PageOutline(title=title, links=out, images=images)
