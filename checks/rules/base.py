"""The rule contract, the evidence a rule yields, and the registry that finds every rule.

A rule reads one `Document` at a time and yields `Hit`s; `checks.judge` turns a unit's hits into
one finding per indicator. Rules never fetch, never read the clock and never write anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from checks.document import Block, Document
from checks.text import Context, snippet


@dataclass(slots=True)
class Hit:
    """One piece of evidence that an indicator is present on a page."""

    indicator: str
    url: str
    kind: str  # html, pdf, image, js, link
    locator: str
    snippet: str
    confidence: float
    sha256: str = ""
    captured_at: str = ""


class Rule:
    """Base class: subclasses set the class attributes and implement `inspect`."""

    id: ClassVar[str]
    title: ClassVar[str]
    short: ClassVar[str] = ""  # a word or two for narrow tables
    basis: ClassVar[str]
    weight: ClassVar[float]
    version: ClassVar[int] = 1
    enabled: ClassVar[bool] = True
    #: page regions whose text counts; header/footer only for sitewide items (hours, contact, channels)
    regions: ClassVar[tuple[str, ...]] = ("main",)
    #: whether the main content of news items and announcements may count
    allow_news: ClassVar[bool] = False

    def inspect(self, doc: Document, ctx: Context) -> Iterator[Hit]:
        raise NotImplementedError

    def hit(self, doc: Document, block: Block | None, text: str, confidence: float, kind: str = "") -> Hit:
        locator = ""
        if block is not None:
            locator = block.locator or (f"bagian: {block.heading}" if block.heading else "")
            if block.region != "main":
                locator = (locator + "; " if locator else "") + f"area: {REGION_NAMES.get(block.region, block.region)}"
        return Hit(
            indicator=self.id, url=doc.url, kind=kind or doc.kind, locator=locator or "halaman",
            snippet=snippet(text), confidence=confidence, sha256=doc.sha256, captured_at=doc.captured_at,
        )


REGION_NAMES = {"footer": "kaki halaman", "header": "kepala halaman", "nav": "menu", "aside": "bilah samping"}

RULES: dict[str, Rule] = {}


def rule(cls: type[Rule]) -> type[Rule]:
    """Class decorator: register one instance of the rule under its permanent id."""
    if cls.id in RULES:
        raise ValueError(f"duplicate rule id {cls.id!r}")
    RULES[cls.id] = cls()
    return cls


def enabled_rules() -> list[Rule]:
    import checks.rules  # noqa: F401  (imports every rule module, which registers its rules)

    return [r for r in RULES.values() if r.enabled]
