"""The SQLModel tables of Patuh — every table lives in this one module.

    Unit ──< Visit >── Sweep          a sweep visits many units; one Visit per (sweep, unit)
              │
              ├──< Page               every fetched document of that visit (text kept, bytes in WARC)
              └──< Finding ──< Evidence ──> Page (nullable)

Conventions:

- Times are timezone-aware UTC datetimes (``DateTime(timezone=True)`` through SQLModel's
  ``UTCDateTime``): naive datetimes are refused on write, and values read back are always
  aware and in UTC, on SQLite as well as on PostgreSQL.
- "JSON text" columns (``Sweep.params``, ``Visit.documents``, ``Page.document``) hold a JSON
  document serialised to a string; the repository functions do the (de)serialising.
- Status and kind columns are short strings; the allowed values are listed in the
  ``*_STATUSES`` / ``*_KINDS`` constants below and checked by ``storage.repo``.
- URLs, snippets and extracted text are ``Text`` (no length limit on either database).
  Header values copied from hostile servers (content type, ETag, Last-Modified) are ``Text``
  too. ``Unit.url`` is the one exception: it carries a unique index, so it is ``String(2048)``.
  ``Page`` is unique on ``(visit_id, url_sha256)`` rather than ``(visit_id, url)``: a
  PostgreSQL b-tree entry cannot exceed ~2.7 kB, and crawled URLs can be longer than that.
- Deleting a sweep, visit or finding deletes what hangs under it (ON DELETE CASCADE);
  deleting a page only unlinks evidence that pointed at it (SET NULL, e.g. a recheck's
  evidence pointing at pages of the visit it re-judged); a unit with visits cannot be
  deleted (its history must be removed on purpose first).
- Constraint and index names follow ``NAMING_CONVENTION`` so that future (batch) migrations
  on SQLite can refer to them by name. The migrations in ``storage/migrations`` must match
  this module exactly (``alembic check`` / the storage tests verify it).
"""

from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from sqlmodel.sql.sqltypes import UTCDateTime

NAMING_CONVENTION: Final[dict[str, str]] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

UNIT_KINDS: Final = frozenset(
    {"puskesmas", "dinas_kesehatan", "dinas_pendidikan", "dinas_sosial", "dpmptsp", "dukcapil"}
)
"""The well-known unit kinds; any other short slug is accepted too."""
SWEEP_TRIGGERS: Final = frozenset({"check", "sweep", "recheck"})
SWEEP_STATUSES: Final = frozenset({"running", "finished", "interrupted"})
VISIT_STATUSES: Final = frozenset({"pending", "crawling", "done", "failed"})
PAGE_KINDS: Final = frozenset({"html", "pdf", "image", "js", "other"})
FINDING_STATUSES: Final = frozenset({"present", "absent", "unknown"})
EVIDENCE_KINDS: Final = frozenset({"html", "pdf", "image", "js", "link"})

URL_MAX: Final = 2048
"""Longest accepted ``Unit.url`` (the column is indexed, so it has a bound)."""


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Unit(SQLModel, table=True):
    """A public-service unit (OPD or Puskesmas) whose website is checked."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(512))
    kind: str = Field(sa_type=String(64))
    region: str = Field(sa_type=String(255))
    province: str | None = Field(default=None, sa_type=String(255))
    url: str = Field(sa_type=String(URL_MAX), unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Sweep(SQLModel, table=True):
    """One run over a set of units: a self-check, a (nightly) sweep, or a recheck."""

    __tablename__ = "sweep"

    id: int | None = Field(default=None, primary_key=True)
    trigger: str = Field(sa_type=String(16))
    status: str = Field(default="running", sa_type=String(16))
    params: str = Field(default="{}", sa_type=Text())
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    filter_region: str | None = Field(default=None, sa_type=String(255))
    filter_kind: str | None = Field(default=None, sa_type=String(64))


class Visit(SQLModel, table=True):
    """One unit within one sweep: the crawl's outcome and the unit's score."""

    __tablename__ = "visit"
    __table_args__ = (UniqueConstraint("sweep_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    sweep_id: int = Field(foreign_key="sweep.id", ondelete="CASCADE", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    status: str = Field(default="pending", sa_type=String(16))
    reachable: bool | None = Field(default=None, sa_type=Boolean())
    https: bool = Field(default=False, sa_type=Boolean())
    error: str | None = Field(default=None, sa_type=Text())
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime())
    pages_fetched: int = Field(default=0, sa_type=Integer())
    documents: str = Field(default="{}", sa_type=Text())
    errors: int = Field(default=0, sa_type=Integer())
    score: float | None = Field(default=None, sa_type=Float())
    grade: str | None = Field(default=None, sa_type=String(16))
    zone: str | None = Field(default=None, sa_type=String(16))


class Page(SQLModel, table=True):
    """A fetched document (HTML, rendered DOM, PDF, image, …) of one visit.

    ``url_sha256`` is the SHA-256 (hex) of ``url``; ``storage.repo.add_pages`` fills it in.
    """

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("visit_id", "url_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", ondelete="CASCADE", index=True)
    url: str = Field(sa_type=Text())
    url_sha256: str = Field(sa_type=String(64))
    final_url: str = Field(sa_type=Text())
    status: int = Field(sa_type=Integer())
    content_type: str = Field(default="", sa_type=Text())
    kind: str = Field(sa_type=String(16))
    sha256: str = Field(sa_type=String(64), index=True)
    size: int = Field(sa_type=Integer())
    depth: int = Field(sa_type=Integer())
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    etag: str | None = Field(default=None, sa_type=Text())
    last_modified: str | None = Field(default=None, sa_type=Text())
    text: str = Field(default="", sa_type=Text())
    document: str | None = Field(default=None, sa_type=Text())
    error: str | None = Field(default=None, sa_type=Text())
    # how this row came to be, when not a plain fetch: "304" (not modified), "sha256" (same body),
    # "revisit" (not due tonight, the earlier document is reused)
    reused: str | None = Field(default=None, sa_type=String(16))
    reused_from: int | None = Field(default=None, sa_type=Integer())
    render_reason: str | None = Field(default=None, sa_type=Text())  # why it was read in Chromium
    warc_record: str | None = Field(default=None, sa_type=Text())  # "file.warc.gz#offset" in the archive


class Finding(SQLModel, table=True):
    """The decision for one indicator of one visit, made by a given rule version."""

    __tablename__ = "finding"
    __table_args__ = (UniqueConstraint("visit_id", "indicator"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit.id", ondelete="CASCADE", index=True)
    indicator: str = Field(sa_type=String(64))
    status: str = Field(sa_type=String(16))
    confidence: float = Field(sa_type=Float())
    rule_id: str = Field(sa_type=String(128))
    rule_version: int = Field(sa_type=Integer())
    summary: str = Field(default="", sa_type=Text())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Evidence(SQLModel, table=True):
    """What a finding rests on: where it was seen, the matched snippet, and the body's hash."""

    __tablename__ = "evidence"

    id: int | None = Field(default=None, primary_key=True)
    finding_id: int = Field(foreign_key="finding.id", ondelete="CASCADE", index=True)
    page_id: int | None = Field(default=None, foreign_key="page.id", ondelete="SET NULL", index=True)
    url: str = Field(sa_type=Text())
    kind: str = Field(sa_type=String(16))
    locator: str = Field(default="", sa_type=Text())
    snippet: str = Field(default="", sa_type=Text())
    sha256: str = Field(sa_type=String(64))
    captured_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    screenshot: str | None = Field(default=None, sa_type=Text())  # PNG file, relative to the data folder
    screenshot_sha256: str | None = Field(default=None, sa_type=String(64))


__all__ = [
    "EVIDENCE_KINDS",
    "FINDING_STATUSES",
    "NAMING_CONVENTION",
    "PAGE_KINDS",
    "SWEEP_STATUSES",
    "SWEEP_TRIGGERS",
    "UNIT_KINDS",
    "URL_MAX",
    "VISIT_STATUSES",
    "Evidence",
    "Finding",
    "Page",
    "Sweep",
    "Unit",
    "Visit",
    "utcnow",
]


# --------------------------------------------------------------------------- the workbench (patuh serve)

USER_ROLES: Final = frozenset({"admin", "assessor", "agency"})
REVIEW_DECISIONS: Final = frozenset({"confirm", "overrule"})
REVIEW_STATUSES: Final = frozenset({"present", "absent"})


class User(SQLModel, table=True):
    """A person who signs in to the workbench.

    ``role``: ``admin`` sees everything; ``assessor`` the units of ``regions`` (a JSON list of
    kabupaten/kota or province names); ``agency`` only the units whose URL is in ``unit_urls``
    (a JSON list). ``password_hash`` is an argon2id hash (never the password).
    """

    __tablename__ = "app_user"  # "user" is a reserved word in PostgreSQL

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(255), unique=True, index=True)
    password_hash: str = Field(sa_type=Text())
    role: str = Field(sa_type=String(16))
    regions: str = Field(default="[]", sa_type=Text())
    unit_urls: str = Field(default="[]", sa_type=Text())
    active: bool = Field(default=True, sa_type=Boolean())
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())


class Review(SQLModel, table=True):
    """A person's decision on one indicator of one unit: confirm the finding or overrule it.

    The decision belongs to ``(unit_id, indicator)``, not to one sweep: it applies to every later
    finding of that pair whose evidence key (``storage.reviews.evidence_key``) equals
    ``evidence_key``. A newer decision on the same pair stamps ``superseded_at`` on the older one.
    ``finding_id`` records the finding the decision was made on (unlinked if it is re-judged).
    """

    __tablename__ = "review"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", ondelete="CASCADE", index=True)
    indicator: str = Field(sa_type=String(64))
    decision: str = Field(sa_type=String(16))
    status_after: str = Field(sa_type=String(16))
    note: str = Field(default="", sa_type=Text())
    reviewer_id: int = Field(foreign_key="app_user.id", index=True)
    finding_id: int | None = Field(default=None, foreign_key="finding.id", ondelete="SET NULL", index=True)
    evidence_key: str = Field(sa_type=String(64))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime())


class LoginSession(SQLModel, table=True):
    """A signed-in browser: the cookie carries a signed random token; only its SHA-256 is kept."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(sa_type=String(64), unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", ondelete="CASCADE", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime())
    expires_at: datetime = Field(sa_type=UTCDateTime())


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept for the rate limit (failures per name and address)."""

    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(255), index=True)
    ip: str = Field(sa_type=String(64))
    success: bool = Field(default=False, sa_type=Boolean())
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), index=True)


__all__ += ["REVIEW_DECISIONS", "REVIEW_STATUSES", "USER_ROLES", "LoginAttempt", "LoginSession", "Review", "User"]
