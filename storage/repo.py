"""The queries that the crawler, the checks runner, the reports and the web UI share.

Every function takes a SQLModel ``Session`` first (see ``storage.db.session``). Functions that
write say so and commit before they return; on an error they roll the session back and
re-raise, so a failed write never leaves half of its rows behind.

Text that comes from crawled sites is hostile: before it is stored, NUL characters (which
PostgreSQL refuses in text columns) are removed and unencodable surrogates are replaced, so
one broken page costs its own text, not the sweep.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from storage.models import (
    EVIDENCE_KINDS,
    FINDING_STATUSES,
    PAGE_KINDS,
    SWEEP_STATUSES,
    SWEEP_TRIGGERS,
    URL_MAX,
    VISIT_STATUSES,
    Evidence,
    Finding,
    Page,
    Sweep,
    Unit,
    Visit,
    utcnow,
)

# --------------------------------------------------------------------------- helpers


def clean_text(value: str) -> str:
    """``value`` made storable on every database: NULs dropped, lone surrogates replaced."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: clean_text(v) if isinstance(v, str) else v for k, v in row.items()}


def _page_table() -> Any:
    return Page.__table__  # type: ignore[attr-defined]


def _has_document(t: Any) -> Any:
    """The page holds a document, or stands for an earlier page's (`reused_from`)."""
    return t.c.document.is_not(None) | t.c.reused_from.is_not(None)


def url_sha256(url: str) -> str:
    """The hex SHA-256 of a URL (the key that makes ``Page`` unique within a visit)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, default=str)


def loads_json(value: str | None) -> Any:
    """Decode one of the JSON text columns (``Sweep.params``, ``Visit.documents``, ``Page.document``)."""
    return json.loads(value) if value else None


def _check_keys(what: str, row: Mapping[str, Any], required: Iterable[str], allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    unknown = sorted(set(row) - allowed_set)
    if unknown:
        raise ValueError(f"{what}: unknown field(s) {unknown}; allowed: {sorted(allowed_set)}")
    missing = sorted(k for k in required if k not in row)
    if missing:
        raise ValueError(f"{what}: missing field(s) {missing}")


def _check_value(what: str, value: object, allowed: Iterable[str]) -> None:
    allowed_set = set(allowed)
    if value not in allowed_set:
        raise ValueError(f"{what} must be one of {sorted(allowed_set)}, not {value!r}")


def _nonempty(what: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


# --------------------------------------------------------------------------- units


def get_unit(s: Session, unit_id: int) -> Unit | None:
    """The unit with that id, or None."""
    return s.get(Unit, unit_id)


def get_unit_by_url(s: Session, url: str) -> Unit | None:
    """The unit registered with exactly this URL (surrounding spaces ignored), or None."""
    return s.exec(select(Unit).where(col(Unit.url) == url.strip())).one_or_none()


def upsert_unit(
    s: Session, *, name: str, kind: str, region: str, url: str, province: str | None = None
) -> tuple[Unit, bool]:
    """Add the unit with this ``url``, or update its name/kind/region/province; commits.

    Returns ``(unit, created)``. A ``province`` of None leaves a stored province as it is.
    """
    name, kind, region, url = (
        _nonempty("name", name),
        _nonempty("kind", kind),
        _nonempty("region", region),
        _nonempty("url", url),
    )
    if len(url) > URL_MAX:
        raise ValueError(f"url is longer than {URL_MAX} characters")
    province = (province.strip() or None) if province is not None else None
    for attempt in range(2):
        unit = get_unit_by_url(s, url)
        try:
            if unit is None:
                unit = Unit(name=name, kind=kind, region=region, url=url, province=province)
                s.add(unit)
                s.commit()
                return unit, True
            changes: dict[str, Any] = {"name": name, "kind": kind, "region": region}
            if province is not None:
                changes["province"] = province
            changed = False
            for field, value in changes.items():
                if getattr(unit, field) != value:
                    setattr(unit, field, value)
                    changed = True
            if changed:
                unit.updated_at = utcnow()
            s.commit()
            return unit, False
        except IntegrityError:
            # Someone else inserted the same URL between our SELECT and INSERT: update theirs.
            s.rollback()
            if attempt:
                raise
        except BaseException:
            s.rollback()
            raise
    raise AssertionError("unreachable")


def list_units(
    s: Session, region: str | None = None, kind: str | None = None, limit: int | None = None
) -> list[Unit]:
    """Registered units, optionally only of one region and/or kind (case-insensitive exact
    match), ordered by region then name."""
    query = select(Unit)
    if region is not None:
        query = query.where(func.lower(col(Unit.region)) == region.strip().lower())
    if kind is not None:
        query = query.where(func.lower(col(Unit.kind)) == kind.strip().lower())
    query = query.order_by(col(Unit.region), col(Unit.name), col(Unit.id))
    if limit is not None:
        query = query.limit(limit)
    return list(s.exec(query).all())


# --------------------------------------------------------------------------- sweeps


def create_sweep(
    s: Session,
    trigger: str,
    params: Mapping[str, Any],
    region: str | None = None,
    kind: str | None = None,
) -> Sweep:
    """Start a sweep (status "running"); ``params`` is stored as JSON; commits."""
    _check_value("trigger", trigger, SWEEP_TRIGGERS)
    sweep = Sweep(
        trigger=trigger, status="running", params=_dumps(params), filter_region=region, filter_kind=kind
    )
    try:
        s.add(sweep)
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return sweep


def finish_sweep(s: Session, sweep_id: int, status: str = "finished") -> Sweep:
    """Mark a sweep "finished" (or "interrupted") and stamp ``finished_at``; commits."""
    _check_value("sweep status", status, SWEEP_STATUSES - {"running"})
    sweep = s.get(Sweep, sweep_id)
    if sweep is None:
        raise LookupError(f"no sweep with id {sweep_id}")
    try:
        sweep.status = status
        sweep.finished_at = utcnow()
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return sweep


def get_sweep(s: Session, sweep_id: int) -> Sweep | None:
    """The sweep with that id, or None."""
    return s.get(Sweep, sweep_id)


def latest_sweep(s: Session, trigger: str | None = None, finished_only: bool = False) -> Sweep | None:
    """The newest sweep (highest id), optionally of one trigger and/or only finished ones."""
    query = select(Sweep)
    if trigger is not None:
        query = query.where(col(Sweep.trigger) == trigger)
    if finished_only:
        query = query.where(col(Sweep.status) == "finished")
    return s.exec(query.order_by(col(Sweep.id).desc()).limit(1)).first()


# --------------------------------------------------------------------------- visits


def get_visit(s: Session, visit_id: int) -> Visit | None:
    """The visit with that id, or None."""
    return s.get(Visit, visit_id)


def _delete_visit_children(s: Session, visit_id: int) -> None:
    finding_ids = select(Finding.id).where(col(Finding.visit_id) == visit_id)
    s.exec(delete(Evidence).where(col(Evidence.finding_id).in_(finding_ids)))
    s.exec(delete(Finding).where(col(Finding.visit_id) == visit_id))
    # Evidence of *other* visits pointing at these pages is unlinked by ON DELETE SET NULL.
    s.exec(delete(Page).where(col(Page.visit_id) == visit_id))


def start_visit(s: Session, sweep_id: int, unit_id: int) -> Visit:
    """Mark a unit as being crawled in a sweep (status "crawling", ``started_at`` now); commits.

    If the pair already has a visit (a retried crawl), its pages, findings and evidence are
    deleted and the same visit row is reset and returned.
    """
    for attempt in range(2):
        visit = s.exec(
            select(Visit).where(col(Visit.sweep_id) == sweep_id, col(Visit.unit_id) == unit_id)
        ).one_or_none()
        try:
            if visit is None:
                visit = Visit(sweep_id=sweep_id, unit_id=unit_id)
                s.add(visit)
            else:
                assert visit.id is not None
                _delete_visit_children(s, visit.id)
                visit.reachable = None
                visit.https = False
                visit.error = None
                visit.finished_at = None
                visit.pages_fetched = 0
                visit.documents = "{}"
                visit.errors = 0
                visit.score = None
                visit.grade = None
                visit.zone = None
            visit.status = "crawling"
            visit.started_at = utcnow()
            s.commit()
            return visit
        except IntegrityError:
            s.rollback()
            if attempt:
                raise
        except BaseException:
            s.rollback()
            raise
    raise AssertionError("unreachable")


def visits_for_sweep(
    s: Session, sweep_id: int, region: str | None = None, kind: str | None = None
) -> list[tuple[Visit, Unit]]:
    """The visits of a sweep with their units (optionally one region/kind, case-insensitive),
    ordered by region then unit name."""
    query = (
        select(Visit, Unit)
        .join(Unit, col(Visit.unit_id) == col(Unit.id))
        .where(col(Visit.sweep_id) == sweep_id)
    )
    if region is not None:
        query = query.where(func.lower(col(Unit.region)) == region.strip().lower())
    if kind is not None:
        query = query.where(func.lower(col(Unit.kind)) == kind.strip().lower())
    query = query.order_by(col(Unit.region), col(Unit.name), col(Unit.id))
    return [(visit, unit) for visit, unit in s.exec(query).all()]


def previous_visit(s: Session, unit_id: int, before_sweep_id: int) -> Visit | None:
    """The unit's latest visit with status "done" in a sweep older than ``before_sweep_id``."""
    query = (
        select(Visit)
        .where(
            col(Visit.unit_id) == unit_id,
            col(Visit.sweep_id) < before_sweep_id,
            col(Visit.status) == "done",
        )
        .order_by(col(Visit.sweep_id).desc())
        .limit(1)
    )
    return s.exec(query).first()


# --------------------------------------------------------------------------- pages

_PAGE_REQUIRED = ("url", "status", "kind", "sha256", "size", "depth")
_PAGE_FIELDS = frozenset(Page.model_fields) - {"id", "visit_id", "url_sha256"}


def add_pages(s: Session, visit_id: int, pages: list[dict[str, Any]]) -> list[int]:
    """Insert the pages of a visit in one bulk statement; returns their ids in input order; commits.

    Each dict uses ``Page`` column names (without ``id``/``visit_id``/``url_sha256``); required:
    url, status, kind, sha256, size, depth. ``final_url`` defaults to ``url``, ``fetched_at``
    to now (it must be timezone-aware), ``content_type``/``text`` to "".
    A URL already stored for the visit raises ``IntegrityError`` (nothing of the batch is kept).
    """
    if not pages:
        return []
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for n, page in enumerate(pages):
        _check_keys(f"page #{n}", page, _PAGE_REQUIRED, _PAGE_FIELDS)
        _check_value(f"page #{n} kind", page["kind"], PAGE_KINDS)
        row: dict[str, Any] = {
            "final_url": page["url"],
            "content_type": "",
            "fetched_at": now,
            "etag": None,
            "last_modified": None,
            "text": "",
            "document": None,
            "error": None,
            "reused": None,
            "reused_from": None,
            "render_reason": None,
            "warc_record": None,  # every row with every column: one executemany for the batch
            **page,
        }
        row = _clean_row(row)
        row["visit_id"] = visit_id
        row["url_sha256"] = url_sha256(row["url"])
        rows.append(row)
    t = _page_table()
    try:
        # one executemany, then the ids by the visit's unique key: an INSERT .. RETURNING in input
        # order is one statement per row on SQLite (30 per unit on a re-sweep)
        conn = s.connection()
        conn.execute(t.insert(), rows)
        keys = [row["url_sha256"] for row in rows]
        query = sa_select(t.c.url_sha256, t.c.id).where(t.c.visit_id == visit_id, t.c.url_sha256.in_(keys))
        found: dict[str, int] = dict(conn.execute(query).all())
        ids = [int(found[k]) for k in keys]
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return ids


def stored_urls(s: Session, visit_id: int, urls: Iterable[str]) -> set[str]:
    """Those of `urls` the visit has a page for already."""
    by_key = {url_sha256(url): url for url in urls}
    if not by_key:
        return set()
    t = _page_table()
    found = s.connection().execute(
        sa_select(t.c.url_sha256).where(t.c.visit_id == visit_id, t.c.url_sha256.in_(list(by_key)))).scalars()
    return {by_key[key] for key in found}


def pages_for_visit(s: Session, visit_id: int) -> list[Page]:
    """The pages of a visit, in the order they were stored."""
    return list(s.exec(select(Page).where(col(Page.visit_id) == visit_id).order_by(col(Page.id))).all())


# --------------------------------------------------------------------------- findings

_FINDING_REQUIRED = ("indicator", "status", "confidence", "rule_id", "rule_version")
_FINDING_FIELDS = frozenset({*_FINDING_REQUIRED, "summary", "evidence"})
_EVIDENCE_REQUIRED = ("url", "kind", "sha256", "captured_at")
_EVIDENCE_FIELDS = frozenset({*_EVIDENCE_REQUIRED, "page_id", "locator", "snippet", "screenshot",
                              "screenshot_sha256"})


def _finding_rows(
    findings: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Validate the findings (and their evidence) and turn them into insertable rows."""
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    seen: set[str] = set()
    for n, finding in enumerate(findings):
        what = f"finding #{n} ({finding.get('indicator')!r})"
        _check_keys(what, finding, _FINDING_REQUIRED, _FINDING_FIELDS)
        _check_value(f"{what} status", finding["status"], FINDING_STATUSES)
        if finding["indicator"] in seen:
            raise ValueError(f"{what}: indicator given twice")
        seen.add(finding["indicator"])
        row = _clean_row(
            {
                "indicator": finding["indicator"],
                "status": finding["status"],
                "confidence": float(finding["confidence"]),
                "rule_id": finding["rule_id"],
                "rule_version": int(finding["rule_version"]),
                "summary": finding.get("summary") or "",
            }
        )
        evidence_rows: list[dict[str, Any]] = []
        for m, evidence in enumerate(finding.get("evidence") or []):
            ewhat = f"{what} evidence #{m}"
            _check_keys(ewhat, evidence, _EVIDENCE_REQUIRED, _EVIDENCE_FIELDS)
            _check_value(f"{ewhat} kind", evidence["kind"], EVIDENCE_KINDS)
            if not isinstance(evidence["captured_at"], datetime):
                raise ValueError(f"{ewhat}: captured_at must be a datetime")
            evidence_rows.append(
                _clean_row(
                    {
                        "page_id": evidence.get("page_id"),
                        "url": evidence["url"],
                        "kind": evidence["kind"],
                        "locator": evidence.get("locator") or "",
                        "snippet": evidence.get("snippet") or "",
                        "sha256": evidence["sha256"],
                        "captured_at": evidence["captured_at"],
                        "screenshot": evidence.get("screenshot"),
                        "screenshot_sha256": evidence.get("screenshot_sha256"),
                    }
                )
            )
        out.append((row, evidence_rows))
    return out


def save_judgement(
    s: Session,
    visit_id: int,
    *,
    findings: list[dict[str, Any]],
    reachable: bool,
    https: bool,
    error: str | None,
    pages_fetched: int,
    documents: Mapping[str, int],
    errors: int,
    score: float | None,
    grade: str | None,
    zone: str | None,
    status: str = "done",
) -> None:
    """Store the verdict on a visit, replacing any earlier one, in one transaction; commits.

    Existing findings and evidence of the visit are deleted, the new ones inserted (each
    finding dict: indicator, status, confidence, rule_id, rule_version, summary, and
    ``evidence``: dicts with page_id, url, kind, locator, snippet, sha256, captured_at), and
    the visit's outcome fields, ``status`` and ``finished_at`` are set. Either all of it is
    stored or, on any error, none of it.
    """
    _check_value("visit status", status, VISIT_STATUSES)
    rows = _finding_rows(findings)  # validate everything before touching the database
    try:
        visit = s.exec(select(Visit).where(col(Visit.id) == visit_id).with_for_update()).one_or_none()
        if visit is None:
            raise LookupError(f"no visit with id {visit_id}")
        finding_ids = select(Finding.id).where(col(Finding.visit_id) == visit_id)
        s.exec(delete(Evidence).where(col(Evidence.finding_id).in_(finding_ids)))
        s.exec(delete(Finding).where(col(Finding.visit_id) == visit_id))
        if rows:
            now = utcnow()
            ft = Finding.__table__  # type: ignore[attr-defined]
            conn = s.connection()
            conn.execute(ft.insert(), [{**row, "visit_id": visit_id, "created_at": now} for row, _ in rows])
            query = sa_select(ft.c.indicator, ft.c.id).where(ft.c.visit_id == visit_id)
            found: dict[str, int] = dict(conn.execute(query).all())
            new_ids = [int(found[row["indicator"]]) for row, _ in rows]  # one finding per indicator
            evidence = [
                {**ev, "finding_id": finding_id}
                for finding_id, (_, evs) in zip(new_ids, rows, strict=True)
                for ev in evs
            ]
            if evidence:
                s.exec(insert(Evidence), params=evidence)
        _finish_visit(visit, reachable=reachable, https=https, error=error, pages_fetched=pages_fetched,
                      documents=documents, errors=errors, score=score, grade=grade, zone=zone, status=status)
        s.commit()
    except BaseException:
        s.rollback()
        raise


def _finish_visit(visit: Visit, *, reachable: bool, https: bool, error: str | None, pages_fetched: int,
                  documents: Mapping[str, int], errors: int, score: float | None, grade: str | None,
                  zone: str | None, status: str) -> None:
    """Set a judged visit's outcome fields and its end time (the caller commits)."""
    visit.reachable = reachable
    visit.https = https
    visit.error = clean_text(error) if error is not None else None
    visit.pages_fetched = pages_fetched
    visit.documents = _dumps(documents)
    visit.errors = errors
    visit.score = score
    visit.grade = grade
    visit.zone = zone
    visit.status = status
    visit.finished_at = utcnow()


def findings_for_visit(s: Session, visit_id: int) -> list[tuple[Finding, list[Evidence]]]:
    """The findings of a visit (by id), each with its evidence (by id)."""
    findings = list(
        s.exec(select(Finding).where(col(Finding.visit_id) == visit_id).order_by(col(Finding.id))).all()
    )
    if not findings:
        return []
    by_finding: dict[int, list[Evidence]] = {f.id: [] for f in findings if f.id is not None}
    evidence = s.exec(
        select(Evidence).where(col(Evidence.finding_id).in_(list(by_finding))).order_by(col(Evidence.id))
    ).all()
    for ev in evidence:
        by_finding[ev.finding_id].append(ev)
    return [(f, by_finding[f.id]) for f in findings if f.id is not None]


__all__ = [
    "add_pages",
    "carry_judgement",
    "clean_text",
    "create_sweep",
    "findings_for_visit",
    "finish_sweep",
    "get_sweep",
    "get_unit",
    "get_unit_by_url",
    "get_visit",
    "latest_sweep",
    "list_units",
    "loads_json",
    "pages_for_visit",
    "previous_visit",
    "save_judgement",
    "start_visit",
    "stored_urls",
    "unshot_evidence",
    "upsert_unit",
    "url_sha256",
    "visits_for_sweep",
]


# --------------------------------------------------------------------------- incremental sweeps


def previous_pages(s: Session, unit_id: int, before_sweep_id: int) -> dict[str, dict[str, Any]]:
    """What the unit's last finished visit fetched, by URL: id, etag, last_modified, sha256, kind,
    depth, fetched_at and whether the page carried evidence. Empty when there is no such visit."""
    return previous_pages_of(s, [unit_id], before_sweep_id).get(unit_id, {})


def previous_pages_of(s: Session, unit_ids: Iterable[int], before_sweep_id: int
                      ) -> dict[int, dict[str, dict[str, Any]]]:
    """`previous_pages` of several units at once (three queries, however many units): unit id ->
    its pages; units without a finished visit are left out."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    vt, ft, et, pt = Visit.__table__, Finding.__table__, Evidence.__table__, _page_table()  # type: ignore[attr-defined]
    conn = s.connection()
    latest = (sa_select(vt.c.unit_id, func.max(vt.c.sweep_id).label("sweep_id"))
              .where(vt.c.unit_id.in_(ids), vt.c.sweep_id < before_sweep_id, vt.c.status == "done")
              .group_by(vt.c.unit_id).subquery())
    unit_of: dict[int, int] = dict(conn.execute(
        sa_select(vt.c.id, vt.c.unit_id)
        .join(latest, (vt.c.unit_id == latest.c.unit_id) & (vt.c.sweep_id == latest.c.sweep_id))).all())
    if not unit_of:
        return {}
    evidence_pages = set(conn.execute(
        sa_select(et.c.page_id).join(ft, et.c.finding_id == ft.c.id)
        .where(ft.c.visit_id.in_(list(unit_of)), et.c.page_id.is_not(None))).scalars())
    # columns, not Page objects: this runs for every unit a sweep opens
    rows = conn.execute(
        sa_select(pt.c.visit_id, pt.c.id, pt.c.url, pt.c.reused_from, pt.c.etag, pt.c.last_modified, pt.c.sha256,
                  pt.c.kind, pt.c.depth, pt.c.fetched_at, pt.c.reused, pt.c.warc_record)
        .where(pt.c.visit_id.in_(list(unit_of)), pt.c.error.is_(None), _has_document(pt))
        .order_by(pt.c.id)
    ).all()
    out: dict[int, dict[str, dict[str, Any]]] = {unit: {} for unit in unit_of.values()}
    for r in rows:
        out[unit_of[r.visit_id]][r.url] = {
            "id": r.reused_from or r.id, "etag": r.etag, "last_modified": r.last_modified, "sha256": r.sha256,
            "kind": r.kind, "depth": r.depth, "fetched_at": r.fetched_at, "reused": r.reused,
            "evidence": r.id in evidence_pages, "warc_record": r.warc_record}
    return out


def reuse_pages(s: Session, visit_id: int, reuse: list[tuple[int, dict[str, Any]]]) -> list[int]:
    """Add pages to a visit that stand for earlier pages' documents: (earlier page id, fields to set).
    The new rows point at the row that holds the document (`reused_from`, never a chain) instead of
    copying its text. Returns the new ids in order; commits."""
    if not reuse:
        return []
    ids = [pid for pid, _ in reuse]
    keep = ("url", "final_url", "status", "content_type", "kind", "sha256", "size", "depth", "fetched_at",
            "etag", "last_modified", "render_reason", "warc_record")
    t = _page_table()
    columns = [t.c[k] for k in ("id", "reused_from", *keep)]
    old = {r.id: r for r in s.connection().execute(sa_select(*columns).where(t.c.id.in_(ids))).all()}
    rows = []
    for pid, overrides in reuse:
        page = old.get(pid)
        if page is None:
            continue
        row = {k: getattr(page, k) for k in keep}
        row.update(overrides)
        row["reused_from"] = page.reused_from or pid
        rows.append(row)
    return add_pages(s, visit_id, rows)


def carry_judgement(s: Session, visit_id: int, rule_versions: Mapping[str, int], *, reachable: bool, https: bool,
                    error: str | None, pages_fetched: int, errors: int) -> bool:
    """Judge a visit whose pages all stand for its unit's last finished visit, under the same rule
    versions: that visit's findings, evidence, score, grade and zone are copied inside the database
    (evidence points at this visit's page of the same URL) and the visit is finished; commits.
    False, with nothing written, when there is no such visit, it has no findings, or its rule
    versions are not ``rule_versions``: the unit must then be judged."""
    visit = s.get(Visit, visit_id)
    if visit is None:
        raise LookupError(f"no visit with id {visit_id}")
    before = previous_visit(s, visit.unit_id, visit.sweep_id)
    if before is None or before.id is None:
        return False
    ft, et, pt = Finding.__table__, Evidence.__table__, _page_table()  # type: ignore[attr-defined]
    conn = s.connection()
    query = sa_select(ft.c.indicator, ft.c.rule_version).where(ft.c.visit_id == before.id)
    versions: dict[str, int] = dict(conn.execute(query).all())
    if not versions or versions != dict(rule_versions):
        return False
    try:
        old_ids = sa_select(ft.c.id).where(ft.c.visit_id == visit_id).scalar_subquery()
        conn.execute(et.delete().where(et.c.finding_id.in_(old_ids)))  # a resumed visit judged before
        conn.execute(ft.delete().where(ft.c.visit_id == visit_id))
        copied = ("indicator", "status", "confidence", "rule_id", "rule_version", "summary")
        conn.execute(ft.insert().from_select(
            ["visit_id", *copied, "created_at"],
            sa_select(literal(visit_id), *(ft.c[k] for k in copied), literal(utcnow(), UTCDateTime()))
            .where(ft.c.visit_id == before.id).order_by(ft.c.id)))
        old_f, new_f, page = ft.alias("old_f"), ft.alias("new_f"), pt.alias("p")
        same_page = (sa_select(func.min(page.c.id))
                     .where(page.c.visit_id == visit_id, (page.c.url == et.c.url) | (page.c.final_url == et.c.url))
                     .scalar_subquery())
        kept = ("url", "kind", "locator", "snippet", "sha256", "captured_at", "screenshot", "screenshot_sha256")
        conn.execute(et.insert().from_select(
            ["finding_id", "page_id", *kept],
            sa_select(new_f.c.id, same_page, *(et.c[k] for k in kept))
            .select_from(et.join(old_f, old_f.c.id == et.c.finding_id)
                         .join(new_f, (new_f.c.visit_id == visit_id) & (new_f.c.indicator == old_f.c.indicator)))
            .where(old_f.c.visit_id == before.id).order_by(et.c.id)))
        kinds = conn.execute(
            sa_select(pt.c.kind, func.count()).where(pt.c.visit_id == visit_id, _has_document(pt))
            .group_by(pt.c.kind)).all()
        _finish_visit(visit, reachable=reachable, https=https, error=error, pages_fetched=pages_fetched,
                      documents={str(k): int(n) for k, n in kinds}, errors=errors, score=before.score,
                      grade=before.grade, zone=before.zone, status="done")
        s.add(visit)
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return True


def unshot_evidence(s: Session, visit_id: int) -> list[tuple[str, str, str]]:
    """(url, kind, sha256) of the visit's evidence of present findings that has no screenshot, by id."""
    rows = s.exec(
        select(Evidence.url, Evidence.kind, Evidence.sha256)
        .join(Finding, col(Evidence.finding_id) == col(Finding.id))
        .where(col(Finding.visit_id) == visit_id, col(Finding.status) == "present", col(Evidence.screenshot).is_(None))
        .order_by(col(Evidence.id))
    ).all()
    return [(url, kind, sha) for url, kind, sha in rows]


def visit_documents(s: Session, visit_id: int, only: Iterable[int] | None = None) -> list[tuple[int, str]]:
    """(page id, document JSON) of every page of a visit that has a document (or of the pages `only`
    names), in fetch order. A reused page yields the document of the page it stands for."""
    wanted = None if only is None else sorted(set(only))
    if wanted is not None and not wanted:
        return []
    own_q = select(Page.id, Page.document).where(col(Page.visit_id) == visit_id, col(Page.document).is_not(None))
    refs_q = select(Page.id, Page.reused_from).where(
        col(Page.visit_id) == visit_id, col(Page.document).is_(None), col(Page.reused_from).is_not(None))
    if wanted is not None:
        own_q = own_q.where(col(Page.id).in_(wanted))
        refs_q = refs_q.where(col(Page.id).in_(wanted))
    own = s.exec(own_q.order_by(col(Page.id))).all()
    refs = s.exec(refs_q).all()
    out = [(int(pid or 0), doc) for pid, doc in own if doc is not None]
    if refs:
        roots: dict[int, list[int]] = {}
        for pid, r in refs:
            roots.setdefault(int(r or 0), []).append(int(pid or 0))
        for root_id, doc in s.exec(select(Page.id, Page.document).where(col(Page.id).in_(list(roots)))).all():
            if doc is not None:
                out.extend((pid, doc) for pid in roots[int(root_id or 0)])
        out.sort()
    return out


def visit_page_index(s: Session, visit_id: int) -> list[tuple[int, str, str, str, bool]]:
    """(id, url, final_url, kind, has a document) of every page of a visit, without their text."""
    with_doc = set(
        s.exec(select(Page.id).where(col(Page.visit_id) == visit_id,
                                     _has_document(_page_table()))).all()
    )
    rows = s.exec(
        select(Page.id, Page.url, Page.final_url, Page.kind)
        .where(col(Page.visit_id) == visit_id)
        .order_by(col(Page.id))
    ).all()
    return [(int(pid or 0), url, final_url, kind, pid in with_doc) for pid, url, final_url, kind in rows]


def attach_screenshot(s: Session, visit_id: int, url: str, path: str, sha256: str) -> int:
    """Link a screenshot to every evidence row of the visit that points at `url`; commits.
    Returns how many rows were linked."""
    finding_ids = select(Finding.id).where(col(Finding.visit_id) == visit_id)
    rows = s.exec(
        select(Evidence).where(col(Evidence.finding_id).in_(finding_ids), col(Evidence.url) == url)
    ).all()
    for ev in rows:
        ev.screenshot, ev.screenshot_sha256 = path, sha256
        s.add(ev)
    s.commit()
    return len(rows)


def finding_with_evidence(s: Session, finding_id: int) -> tuple[Finding, list[tuple[Evidence, Page | None]]] | None:
    """A finding with its evidence and, for each, the page it was seen on (without page text)."""
    finding = s.get(Finding, finding_id)
    if finding is None:
        return None
    rows = s.exec(select(Evidence).where(col(Evidence.finding_id) == finding_id).order_by(col(Evidence.id))).all()
    out: list[tuple[Evidence, Page | None]] = []
    for ev in rows:
        page = None
        if ev.page_id is not None:
            page = s.exec(select(Page).options(defer(Page.text), defer(Page.document))  # type: ignore[arg-type]
                          .where(col(Page.id) == ev.page_id)).one_or_none()
        out.append((ev, page))
    return finding, out

