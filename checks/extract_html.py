"""HTML (plain or rendered) to `Document`: text blocks under their headings, tables, links, images.

lxml does the parsing (a fraction of BeautifulSoup's cost, see STACK.md). The walk keeps one heading
stack per page region, so a footer widget's title never governs main content. Hidden content is
kept on purpose: accordions, tabs and dialogs count as published (indicators.yaml, general.forms).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from urllib.parse import urldefrag, urljoin

from lxml import etree

from checks.document import Block, Document, Link, Table

MAX_CHARS = 2_000_000  # hostile pages: never parse more than this many characters
MAX_BLOCKS = 20_000
MAX_LINKS = 5_000

SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head", "select"}
BLOCK_TAGS = {
    "p", "div", "li", "dt", "dd", "pre", "blockquote", "address", "section", "article", "main", "aside",
    "header", "footer", "nav", "form", "fieldset", "legend", "figure", "figcaption", "ul", "ol", "dl",
    "body", "summary", "details", "label", "center", "caption", "tbody",
}
HEADING_LEVEL = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
PSEUDO_HEADING_LEVEL = 7  # a short paragraph that is bold all through, or a <summary>
DT_LEVEL = 8

_REGION_BY_TAG = {"nav": "nav", "header": "header", "footer": "footer", "aside": "aside"}
_REGION_BY_ROLE = {"navigation": "nav", "banner": "header", "contentinfo": "footer", "complementary": "aside"}
_REGION_BY_CLASS = [
    (re.compile(r"(^|[\s_-])(footer|colophon|site-info|copyright)([\s_-]|$)", re.I), "footer"),
    (re.compile(r"(^|[\s_-])(navbar|nav|menu|navigation|breadcrumbs?|dropdown-menu|sub-menu)([\s_-]|$)", re.I), "nav"),
    (re.compile(r"(^|[\s_-])(sidebar|widget-area|secondary)([\s_-]|$)", re.I), "aside"),
    (re.compile(r"(^|[\s_-])(masthead|site-header|topbar|top-bar)([\s_-]|$)", re.I), "header"),
]
_WS = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_NL = re.compile(r"\s*\n\s*")


# lxml's HTML parser with plain elements: lxml.html builds the same tree but looks up a Python class
# for every element it hands out (a third of the walk's cost); `_text_of` is its `text_content()`
_text_of = etree.XPath("string()")
_parsers = threading.local()


def _parser() -> etree.HTMLParser:
    parser = getattr(_parsers, "parser", None)
    if parser is None:  # one per thread: a parser must not be shared while it parses
        parser = _parsers.parser = etree.HTMLParser()
    return parser


def clean(text: str) -> str:
    """Collapse runs of spaces, keep single line breaks."""
    # most texts of a page have nothing to collapse: tabs, line breaks, no-break and zero-width
    # spaces are all unprintable, so two C scans tell (a regex search cost 2.5x as much)
    if text.isprintable() and "  " not in text:
        return text.strip()
    text = _WS.sub(" ", text)
    return _NL.sub("\n", text).strip()


_ABSOLUTE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]")
_SITE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*")


def _base_for(base: str, href: str) -> str | None:
    """The part of `base` that `urljoin(base, href)` depends on, when it is less than all of it: the
    scheme for an absolute link, scheme and host for a root-relative one (a page's menus, sidebar and
    footer link the same URLs, written either way, from every page); None otherwise."""
    if _ABSOLUTE.match(href):
        return base.split(":", 1)[0].lower() + "://x/"
    if href.startswith("/") and not href.startswith("//"):
        site = _SITE.match(base)
        return site.group(0) + "/" if site else None
    return None


def join(base: str, href: str) -> str:
    """`urljoin`, remembered for absolute and root-relative links."""
    short = _base_for(base, href)
    return _join(short, href) if short else urljoin(base, href)


def link_target(base: str, href: str) -> str:
    """`urldefrag(urljoin(base, href))[0]`, remembered like `join`."""
    short = _base_for(base, href)
    return _link_target(short, href) if short else urldefrag(urljoin(base, href))[0]


_join = lru_cache(maxsize=8192)(urljoin)


@lru_cache(maxsize=8192)
def _link_target(base: str, href: str) -> str:
    return urldefrag(urljoin(base, href))[0]


def _text(el: etree._Element) -> str:
    """All the text inside an element (`text_content()`); an element without children is its text."""
    return (el.text or "") if len(el) == 0 else _text_of(el)


def _region_of(el: etree._Element, tag: str, inherited: str) -> str:
    """The page region of element `el` (its lower-case `tag`) inside a region `inherited`."""
    if inherited in ("footer", "nav"):
        return inherited
    region = _REGION_BY_TAG.get(tag)
    if region is not None:
        # an <article>'s own <header> is part of the content, not the site header
        parent = el.getparent() if tag == "header" else None
        if parent is None or parent.tag not in ("article", "main", "section"):
            return region
    role = el.get("role")
    if role and (region := _REGION_BY_ROLE.get(role.lower())) is not None:
        return region
    ident, cls = el.get("id"), el.get("class")
    if ident or cls:
        marker = f"{ident or ''} {cls or ''}"
        if marker.strip():
            return _region_by_marker(marker) or inherited
    return inherited


@lru_cache(maxsize=4096)  # a theme's class names repeat on every element of every page
def _region_by_marker(marker: str) -> str | None:
    for pattern, region in _REGION_BY_CLASS:
        if pattern.search(marker):
            return region
    return None


class _Walker:
    def __init__(self, url: str) -> None:
        self.url = url
        self.blocks: list[Block] = []
        self.tables: list[Table] = []
        self.links: list[Link] = []
        self.images: list[Link] = []
        self.stacks: dict[str, list[tuple[int, str]]] = {}
        self.buf: list[str] = []
        self.buf_tag = "p"
        self.bold_only = True
        self.buf_region = "main"

    def headings(self, region: str) -> tuple[str, ...]:
        return tuple(text for _, text in self.stacks.get(region, []))

    def push_heading(self, region: str, level: int, text: str) -> None:
        stack = self.stacks.setdefault(region, [])
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text[:200]))

    def emit(self, text: str, tag: str, region: str) -> None:
        """Add a block of text that is already `clean`."""
        if not text or len(self.blocks) >= MAX_BLOCKS:
            return
        heads = self.headings(region)
        locator = f"bagian: {heads[-1]}" if heads else ""
        self.blocks.append(Block(text=text[:5000], tag=tag, headings=heads, region=region, locator=locator))

    def flush(self) -> None:
        if not self.buf:
            return
        text = clean("".join(self.buf))
        self.buf = []
        if not text:
            return
        if self.bold_only and len(text) <= 80 and self.buf_tag in ("p", "div", "summary"):
            self.push_heading(self.buf_region, PSEUDO_HEADING_LEVEL, text.rstrip(":"))
            self.emit(text, "h7", self.buf_region)
            return
        tag = self.buf_tag
        self.emit(text, tag, self.buf_region)
        if tag == "dt":
            self.push_heading(self.buf_region, DT_LEVEL, text.rstrip(":"))

    def add_text(self, text: str | None, bold: bool, region: str) -> None:
        if not text:
            return
        if text.strip():
            if not bold:
                self.bold_only = False
            if not self.buf:
                self.buf_region = region
        self.buf.append(text)

    def start_block(self, tag: str, region: str) -> None:
        self.flush()
        self.buf_tag = tag
        self.bold_only = True
        self.buf_region = region

    def walk(self, el: etree._Element, region: str, bold: bool = False) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comments, processing instructions
            return
        tag = tag.lower()
        if tag in SKIP_TAGS:
            return
        if el.get("hidden") is not None and tag not in ("details", "div", "section"):
            return
        region = _region_of(el, tag, region)
        if tag in HEADING_LEVEL:
            self.flush()
            text = clean(_text(el))
            if text:
                self.push_heading(region, HEADING_LEVEL[tag], text)
                self.emit(text, tag, region)
            self._collect_links(el, region)
            return
        if tag == "table" and not _is_layout_table(el):
            self.flush()
            self._table(el, region)
            return
        if tag == "br":
            self.buf.append("\n")
            return
        if tag == "img":
            self._image(el, region)
        elif tag == "a":
            self._link(el, region)
        if tag == "dt":
            # a new term closes the previous term's scope
            stack = self.stacks.get(region, [])
            while stack and stack[-1][0] >= DT_LEVEL:
                stack.pop()
        if tag == "summary":
            self.start_block("summary", region)
            self.add_text(el.text, True, region)
            for child in el:
                self.walk(child, region, True)
                self.add_text(child.tail, True, region)
            self.flush()
            return
        is_block = tag in BLOCK_TAGS or tag in ("tr", "td", "th")
        if is_block:
            self.start_block(tag, region)
        inner_bold = bold or tag in ("strong", "b")
        self.add_text(el.text, inner_bold, region)
        for child in el:
            self.walk(child, region, inner_bold)
            self.add_text(child.tail, inner_bold, region)
        if is_block:
            self.flush()
            if tag in ("details", "dl"):
                stack = self.stacks.get(region, [])
                while stack and stack[-1][0] >= PSEUDO_HEADING_LEVEL:
                    stack.pop()

    def _collect_links(self, el: etree._Element, region: str) -> None:
        for a in el.iter("a"):
            self._link(a, region)

    def _link(self, el: etree._Element, region: str) -> None:
        href = (el.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#")) or len(self.links) >= MAX_LINKS:
            return
        text = clean(_text(el))
        if not text:
            for img in el.iter("img"):
                text = clean(img.get("alt") or img.get("title") or "")
                if text:
                    break
        text = text or clean(el.get("title") or el.get("aria-label") or "")
        try:
            absolute = link_target(self.url, href)
        except ValueError:
            return
        self.links.append(Link(url=absolute, text=text[:300], region=region))

    def _image(self, el: etree._Element, region: str) -> None:
        src = (el.get("src") or el.get("data-src") or "").strip()
        if not src or src.startswith("data:") or len(self.images) >= MAX_LINKS:
            return
        try:
            absolute = join(self.url, src)
        except ValueError:
            return
        alt = clean(el.get("alt") or el.get("title") or "")
        self.images.append(Link(url=absolute, text=alt[:300], region=region))
        if len(alt) >= 40 and " " in alt:
            # a descriptive text alternative is text the site publishes (a maklumat written into the alt)
            heads = self.headings(region)
            self.blocks.append(Block(text=alt[:2000], tag="img", headings=heads, region=region,
                                     locator="teks alternatif gambar"))

    def _table(self, el: etree._Element, region: str) -> None:
        rows: list[list[str]] = []
        for tr in el.iter("tr"):
            cells = [_cell_text(td) for td in tr if isinstance(td.tag, str) and td.tag in ("td", "th")]
            if any(cells):
                rows.append(cells)
        self._collect_links(el, region)
        for img in el.iter("img"):
            self._image(img, region)
        if not rows:
            return
        heads = self.headings(region)
        locator = f"tabel di bagian: {heads[-1]}" if heads else "tabel"
        self.tables.append(Table(rows=rows[:500], headings=heads, region=region, locator=locator))
        for cells in rows[:500]:
            self.emit(" | ".join(c for c in cells if c), "tr", region)


def _is_layout_table(table: etree._Element) -> bool:
    """Old sites lay whole pages out with tables; those are containers, not data."""
    if table.find(".//table") is not None:
        return True
    return any(isinstance(c.tag, str) and c.tag in HEADING_LEVEL for c in table.iter())


_CELL_BREAKS = {"li", "p", "br", "div", "tr", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}


def _cell_text(cell: etree._Element) -> str:
    """Text of a table cell with its lists and paragraphs kept on separate lines."""
    parts: list[str] = []

    def walk(el: etree._Element) -> None:
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            return
        if el.tag in _CELL_BREAKS:
            parts.append("\n")
        parts.append(el.text or "")
        for child in el:
            walk(child)
            parts.append(child.tail or "")
        if el.tag in _CELL_BREAKS:
            parts.append("\n")

    walk(cell)
    return clean("".join(parts))


def extract_html(url: str, html: str, kind: str = "html") -> Document:
    """Build a Document from decoded HTML. `url` is the final URL (after redirects)."""
    html = html[:MAX_CHARS]
    if not html.strip():
        return Document(url=url, kind=kind)
    try:
        root = etree.fromstring(html, _parser())
    except (etree.ParserError, ValueError):
        return Document(url=url, kind=kind)
    if root is None:
        return Document(url=url, kind=kind)
    # the elements read outside the walk, found in one pass over the tree (six `find`/XPath
    # scans cost 290 us a farm page, a full scan each when there is no <base>)
    base = title_el = None
    refresh: str | None = None
    frame_srcs: list[str] = []
    form_els: list[etree._Element] = []
    scripts = 0
    for el in root.iter("base", "title", "meta", "iframe", "frame", "embed", "object", "form", "script"):
        tag = el.tag
        if tag == "script":
            scripts += 1
        elif tag == "form":
            form_els.append(el)
        elif tag == "meta":
            content = el.get("content")
            if refresh is None and content is not None and (el.get("http-equiv") or "").lower() == "refresh":
                refresh = content
        elif tag == "title":
            title_el = title_el if title_el is not None else el
        elif tag == "base":
            base = base if base is not None else el
        else:
            src = el.get("data" if tag == "object" else "src")
            if src is not None:
                frame_srcs.append(src)
    base_url = url
    if base is not None and base.get("href"):
        base_url = urljoin(url, base.get("href"))
    title = clean(_text_of(title_el)) if title_el is not None else ""
    walker = _Walker(base_url)
    body = root.find("body")
    walker.walk(body if body is not None else root, "main")
    walker.flush()
    lang = (root.get("lang") or "").lower()
    meta: dict[str, object] = {}
    if refresh:
        match = re.search(r"url\s*=\s*['\"]?([^'\">\s]+)", refresh, re.I)
        if match:
            meta["refresh"] = urljoin(base_url, match.group(1))
    frames = [urljoin(base_url, src) for src in frame_srcs]
    if frames:
        meta["frames"] = frames[:50]
    forms = []
    for form in form_els:
        inputs = [i for i in form.iter("input", "textarea", "select")
                  if (i.get("type") or "text").lower() not in ("hidden", "submit", "button", "search")]
        is_search = (form.get("role") or "") == "search" or any(
            (i.get("type") or "") == "search" or (i.get("name") or "") in ("s", "q") for i in form.iter("input"))
        if not is_search:
            forms.append({"fields": len(inputs), "text": any(i.tag == "textarea" for i in inputs)})
    if forms:
        meta["forms"] = forms[:20]
    meta["scripts"] = scripts
    return Document(
        url=url, kind=kind, title=title[:300], lang=lang, blocks=walker.blocks, tables=walker.tables,
        links=walker.links, images=walker.images, meta=meta,
    )
