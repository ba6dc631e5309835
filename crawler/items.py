"""Items the spider yields: one per fetched page, one when a unit's crawl is over (dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checks.document import Document


@dataclass(slots=True)
class PageItem:
    unit: str
    url: str
    final_url: str
    status: int
    content_type: str
    kind: str  # html, pdf, image, js, other
    sha256: str
    size: int
    depth: int
    fetched_at: datetime
    document: Document | None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None


@dataclass(slots=True)
class UnitDone:
    unit: str
    reachable: bool
    error: str | None
    https: bool
    pages_fetched: int
    errors: int
