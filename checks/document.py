"""The `Document`: what a fetched HTML page, rendered DOM or PDF says, in a shape rules can read.

A document is a flat list of text blocks, each tagged with the headings that govern it and the
region of the page it sits in (main content, navigation, header, footer, aside), plus tables as
rows of cells and links with their anchor text. It serialises to JSON so that a stored sweep can
be judged again without crawling.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson

REGIONS = ("main", "nav", "header", "footer", "aside")


@dataclass(slots=True)
class Block:
    """One piece of text: a paragraph, list item, table row, heading or PDF line group."""

    text: str
    tag: str = "p"  # p, li, h1..h6, tr, td, dt, dd, pdf, img (alt text), title
    headings: tuple[str, ...] = ()  # outermost first; the last one governs this block
    region: str = "main"
    locator: str = ""  # human-readable place: "bagian: Persyaratan", "halaman 2"

    @property
    def heading(self) -> str:
        return self.headings[-1] if self.headings else ""


@dataclass(slots=True)
class Link:
    url: str  # absolute
    text: str  # anchor text, or alt/title of an image inside the anchor
    region: str = "main"


@dataclass(slots=True)
class Table:
    rows: list[list[str]]
    headings: tuple[str, ...] = ()
    region: str = "main"
    locator: str = ""


@dataclass(slots=True)
class Document:
    url: str
    kind: str = "html"  # html, pdf, image, js
    title: str = ""
    lang: str = ""
    blocks: list[Block] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    images: list[Link] = field(default_factory=list)  # src + alt
    sha256: str = ""
    captured_at: str = ""  # ISO 8601 UTC, set by the caller (checks never read the clock)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks)

    def main_blocks(self) -> list[Block]:
        return [b for b in self.blocks if b.region == "main"]

    def to_json(self) -> str:
        # orjson reads the dataclasses natively: a tenth of json.dumps(asdict(...))'s cost
        try:
            return orjson.dumps(self).decode()
        except TypeError:  # a lone surrogate (a broken PDF font map): json keeps it, storage replaces it
            return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes) -> Document:
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:  # text with a lone surrogate (see to_json)
            data = json.loads(raw)
        data["blocks"] = [Block(**{**b, "headings": tuple(b["headings"])}) for b in data.get("blocks", [])]
        data["tables"] = [Table(**{**t, "headings": tuple(t["headings"])}) for t in data.get("tables", [])]
        data["links"] = [Link(**x) for x in data.get("links", [])]
        data["images"] = [Link(**x) for x in data.get("images", [])]
        return cls(**data)
