"""Whether a fetched HTML page must be rendered in Chromium to be read, and why.

Rendering costs what 60-140 plain fetches cost (STACK.md), so only pages that need it are
rendered: a body built by script (little text, much script), an SPA root, a "loading…"
placeholder or a <noscript> plea, content fetched by XHR/fetch into an empty container.
The reason is stored on the page record.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from checks import prefilter

MIN_TEXT = 250  # characters of visible main text below which a scripted page is suspect
SPA_ROOTS = ("#app", "#root", "#__next", "#__nuxt", "[ng-app]", "[data-reactroot]", "[data-v-app]", "#svelte")
PLACEHOLDER = re.compile(r"(memuat|sedang dimuat|loading|please wait|mohon tunggu|harap tunggu)", re.I)
PLACEHOLDER_WORDS = ("memuat", "dimuat", "loading", "please wait", "mohon tunggu", "harap tunggu")
NOSCRIPT_PLEA = re.compile(r"(aktifkan|nyalakan|enable|requires?)\s+javascript", re.I)
FETCHES = re.compile(r"\b(fetch\s*\(|XMLHttpRequest|\$\.(?:get|getJSON|ajax)\s*\(|axios\.)")


_ROOT_MARKERS = ("<noscript", "ng-app", "data-reactroot", "data-v-app", "__next", "__nuxt", "svelte",
                 'id="app"', "id='app'", "id=app", 'id="root"', "id='root'", "id=root")
# the markers and placeholder words as one RE2 alternation (checks.prefilter): one linear scan proves
# most pages hold none of them, instead of nineteen substring scans (0.2 ms per page)
_ANY_MARKER = prefilter.superset(re.compile("|".join(re.escape(m) for m in _ROOT_MARKERS + PLACEHOLDER_WORDS)))


def _has_marker(lowered: str) -> bool:
    if _ANY_MARKER is not None and not prefilter.can_match(_ANY_MARKER, lowered):
        return False
    return any(m in lowered for m in _ROOT_MARKERS) or any(w in lowered for w in PLACEHOLDER_WORDS)


def precheck(html: str) -> str:
    """What `render_reason` needs to decide, told from the raw text alone: "no" (no script: read it as
    it is), "look" (an app root, a <noscript> plea or a placeholder word: parse it now) or "text"
    (only a page with little text can need rendering: see `needs_look`)."""
    lowered = html[:2_000_000].lower()
    if "<script" not in lowered:
        return "no"
    if _has_marker(lowered):
        return "look"
    return "text"


def needs_look(visible: int) -> bool:
    """After a "text" precheck: whether a page with `visible` characters of text outside its menus,
    headers and footers (as a reader found them) must be parsed by `render_reason`. With twice
    MIN_TEXT no count of render_reason's own can fall below MIN_TEXT."""
    return visible < 2 * MIN_TEXT


def render_reason(html: str) -> str | None:
    """A short reason to render this page, or None when its HTML can be read as it is."""
    head = html[:2_000_000]
    lowered = head.lower()
    if "<script" not in lowered:
        return None  # nothing can build the page
    tree = LexborHTMLParser(head)
    body = tree.body
    if body is None:
        return None
    scripts = tree.css("script")
    if not scripts:
        return None
    for noscript in tree.css("noscript"):
        if NOSCRIPT_PLEA.search(noscript.text(deep=True) or ""):
            return "noscript meminta JavaScript"
    for node in tree.css(", ".join(SPA_ROOTS)):  # one pass over the tree for every kind of root
        if len(node.text(deep=True, strip=True)) < MIN_TEXT:
            return f"akar aplikasi JavaScript (#{node.attributes.get('id') or node.tag}) kosong"
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        # a short "Memuat data…" of its own, in a container that holds nothing else yet
        for node in tree.css("p, div, span, section, main, article, li, td"):
            own = node.text(deep=False, strip=True)
            if not own or len(own) > 80 or not PLACEHOLDER.search(own):
                continue
            container = node.parent or node
            if len(container.text(deep=True, strip=True)) < 160 and not container.css_first("a"):
                return f"penampung '{own[:40]}' diisi oleh skrip"
    for node in tree.css("script, style, noscript, template, nav, header, footer"):
        node.decompose()
    visible = len(body.text(deep=True, separator=" ", strip=True))
    inline = " ".join(s.text() or "" for s in scripts)
    external = sum(1 for s in scripts if s.attributes.get("src"))
    if visible < MIN_TEXT and (len(inline) > 2 * max(visible, 1) or external >= 2 or FETCHES.search(inline)):
        return f"teks sedikit ({visible} karakter) dengan banyak skrip"
    return None
