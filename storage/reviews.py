"""The queries of the workbench (``patuh serve``, ``patuh users``, ``patuh review``).

Users, their login sessions and attempts, reviewers' decisions, and the read queries the
dashboard, the review queue and the unit page need (a unit's current visit, its history, the
hashes of the pages a visit searched). Like ``storage.repo``: every function takes a SQLModel
``Session`` first; functions that write say so and commit (rolling back on an error).

The evidence key (``evidence_key``) is what makes a decision stick: a review records the key of
the finding it was made on, and applies to a later finding of the same unit and indicator only
while that finding's key is the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from storage.models import (
    REVIEW_DECISIONS,
    REVIEW_STATUSES,
    USER_ROLES,
    Evidence,
    Finding,
    LoginAttempt,
    LoginSession,
    Page,
    Review,
    Sweep,
    Unit,
    User,
    Visit,
    utcnow,
)

KEY_VERSION = "patuh.evidence-key/1"
JUDGED_VISIT_STATUSES = ("done", "failed")

# --------------------------------------------------------------------------- users


def _json_list(values: Iterable[str]) -> str:
    cleaned = sorted({v.strip() for v in values if v and v.strip()})
    return json.dumps(cleaned, ensure_ascii=False)


def user_regions(user: User) -> list[str]:
    """The regions (kabupaten/kota or province names) an assessor covers."""
    return [str(v) for v in json.loads(user.regions or "[]")]


def user_unit_urls(user: User) -> list[str]:
    """The unit URLs an agency account speaks for."""
    return [str(v) for v in json.loads(user.unit_urls or "[]")]


def add_user(
    s: Session,
    *,
    name: str,
    password_hash: str,
    role: str,
    regions: Iterable[str] = (),
    unit_urls: Iterable[str] = (),
) -> User:
    """Create a user; commits. Raises ``ValueError`` for a bad role or a name already taken."""
    name = name.strip()
    if not name:
        raise ValueError("name must not be empty")
    if role not in USER_ROLES:
        raise ValueError(f"role must be one of {sorted(USER_ROLES)}, not {role!r}")
    user = User(name=name, password_hash=password_hash, role=role, regions=_json_list(regions),
                unit_urls=_json_list(unit_urls))
    try:
        s.add(user)
        s.commit()
    except IntegrityError as exc:
        s.rollback()
        raise ValueError(f"user {name!r} already exists") from exc
    except BaseException:
        s.rollback()
        raise
    return user


def get_user(s: Session, user_id: int) -> User | None:
    """The user with that id, or None."""
    return s.get(User, user_id)


def get_user_by_name(s: Session, name: str) -> User | None:
    """The user with exactly that name (surrounding spaces ignored), or None."""
    return s.exec(select(User).where(col(User.name) == name.strip())).one_or_none()


def list_users(s: Session) -> list[User]:
    """Every user, by name."""
    return list(s.exec(select(User).order_by(col(User.name))).all())


def update_user(
    s: Session,
    user_id: int,
    *,
    password_hash: str | None = None,
    active: bool | None = None,
    regions: Iterable[str] | None = None,
    unit_urls: Iterable[str] | None = None,
) -> User:
    """Change a user's password hash, active flag, regions or unit URLs; commits.

    Disabling a user or changing the password ends all of their login sessions.
    """
    user = s.get(User, user_id)
    if user is None:
        raise LookupError(f"no user with id {user_id}")
    try:
        if password_hash is not None:
            user.password_hash = password_hash
        if active is not None:
            user.active = active
        if regions is not None:
            user.regions = _json_list(regions)
        if unit_urls is not None:
            user.unit_urls = _json_list(unit_urls)
        if password_hash is not None or active is False:
            s.exec(delete(LoginSession).where(col(LoginSession.user_id) == user_id))
        s.add(user)
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return user


# --------------------------------------------------------------------------- login sessions and attempts


def create_login_session(s: Session, user_id: int, token_sha256: str, expires_at: datetime) -> LoginSession:
    """Store a new login session (only the token's SHA-256); commits."""
    row = LoginSession(token_sha256=token_sha256, user_id=user_id, expires_at=expires_at)
    try:
        s.add(row)
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return row


def get_login_session(s: Session, token_sha256: str, now: datetime | None = None) -> tuple[LoginSession, User] | None:
    """The unexpired session with that token hash and its (active) user, or None."""
    now = now or utcnow()
    row = s.exec(
        select(LoginSession, User)
        .join(User, col(LoginSession.user_id) == col(User.id))
        .where(col(LoginSession.token_sha256) == token_sha256)
    ).one_or_none()
    if row is None:
        return None
    login, user = row
    if login.expires_at <= now or not user.active:
        return None
    return login, user


def delete_login_session(s: Session, token_sha256: str) -> None:
    """End one login session (sign out); commits."""
    try:
        s.exec(delete(LoginSession).where(col(LoginSession.token_sha256) == token_sha256))
        s.commit()
    except BaseException:
        s.rollback()
        raise


def purge_expired(s: Session, attempts_before: datetime, now: datetime | None = None) -> None:
    """Delete expired login sessions and login attempts older than ``attempts_before``; commits."""
    now = now or utcnow()
    try:
        s.exec(delete(LoginSession).where(col(LoginSession.expires_at) <= now))
        s.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < attempts_before))
        s.commit()
    except BaseException:
        s.rollback()
        raise


def record_login_attempt(s: Session, name: str, ip: str, success: bool) -> None:
    """Remember one sign-in attempt; commits."""
    try:
        s.add(LoginAttempt(name=name.strip()[:255], ip=ip[:64], success=success))
        s.commit()
    except BaseException:
        s.rollback()
        raise


def recent_failures(s: Session, name: str, ip: str, since: datetime) -> int:
    """How many failed sign-ins for this name from this address since ``since`` and after its last success."""
    name, ip = name.strip()[:255], ip[:64]
    same = (col(LoginAttempt.name) == name, col(LoginAttempt.ip) == ip)
    last_ok = s.exec(select(func.max(col(LoginAttempt.at))).where(*same, col(LoginAttempt.success).is_(True))).one()
    conditions = [*same, col(LoginAttempt.success).is_(False), col(LoginAttempt.at) >= since]
    if last_ok is not None:
        conditions.append(col(LoginAttempt.at) > last_ok)
    return int(s.exec(select(func.count()).select_from(LoginAttempt).where(*conditions)).one())


# --------------------------------------------------------------------------- evidence keys


def evidence_key(status: str, evidence_sha256s: Iterable[str], searched_sha256s: Iterable[str]) -> str:
    """The key of the evidence a finding rests on (hex SHA-256).

    A ``present`` finding rests on the bodies its evidence was seen in (their SHA-256s); an
    ``absent`` or ``unknown`` one on every document that was searched without finding it. The
    finding's status is part of the key, so a flip from absent to present changes it too. Order
    and duplicates do not matter.
    """
    hashes = evidence_sha256s if status == "present" else searched_sha256s
    material = "|".join([KEY_VERSION, status, *sorted({h for h in hashes if h})])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def searched_hashes(s: Session, visit_ids: Sequence[int]) -> dict[int, list[str]]:
    """Per visit, the SHA-256 of every page whose document the rules searched.

    That is a page with its own document, or one that stands for an earlier page's document
    (``reused_from``: an unchanged body is not read again), and without an error.
    """
    out: dict[int, list[str]] = {vid: [] for vid in visit_ids}
    if not visit_ids:
        return out
    rows = s.exec(
        select(Page.visit_id, Page.sha256).where(
            col(Page.visit_id).in_(list(visit_ids)), col(Page.error).is_(None),
            col(Page.document).is_not(None) | col(Page.reused_from).is_not(None))
    ).all()
    for visit_id, sha in rows:
        out.setdefault(int(visit_id), []).append(sha)
    return out


def finding_key(s: Session, finding: Finding, evidence: Sequence[Evidence] | None = None) -> str:
    """``evidence_key`` of one stored finding (its evidence rows, or its visit's searched pages)."""
    if finding.status == "present":
        if evidence is None:
            evidence = list(s.exec(select(Evidence).where(col(Evidence.finding_id) == finding.id)).all())
        return evidence_key(finding.status, [e.sha256 for e in evidence], [])
    return evidence_key(finding.status, [], searched_hashes(s, [finding.visit_id]).get(finding.visit_id, []))


# --------------------------------------------------------------------------- reviews


def add_review(
    s: Session,
    *,
    unit_id: int,
    indicator: str,
    decision: str,
    status_after: str,
    note: str,
    reviewer_id: int,
    finding_id: int | None,
    evidence_key: str,
) -> Review:
    """Record a decision on (unit, indicator), superseding the one in force; commits."""
    if decision not in REVIEW_DECISIONS:
        raise ValueError(f"decision must be one of {sorted(REVIEW_DECISIONS)}, not {decision!r}")
    if status_after not in REVIEW_STATUSES:
        raise ValueError(f"status_after must be one of {sorted(REVIEW_STATUSES)}, not {status_after!r}")
    now = utcnow()
    try:
        for old in s.exec(select(Review).where(col(Review.unit_id) == unit_id, col(Review.indicator) == indicator,
                                               col(Review.superseded_at).is_(None))).all():
            old.superseded_at = now
            s.add(old)
        review = Review(unit_id=unit_id, indicator=indicator, decision=decision, status_after=status_after,
                        note=note.replace("\x00", ""), reviewer_id=reviewer_id, finding_id=finding_id,
                        evidence_key=evidence_key, created_at=now)
        s.add(review)
        s.commit()
    except BaseException:
        s.rollback()
        raise
    return review


def active_reviews(s: Session, unit_ids: Sequence[int] | None = None) -> dict[tuple[int, str], Review]:
    """The decision in force (not superseded) per (unit id, indicator)."""
    query = select(Review).where(col(Review.superseded_at).is_(None))
    if unit_ids is not None:
        if not unit_ids:
            return {}
        query = query.where(col(Review.unit_id).in_(list(unit_ids)))
    out: dict[tuple[int, str], Review] = {}
    for review in s.exec(query.order_by(col(Review.id))).all():
        out[(review.unit_id, review.indicator)] = review  # the newest wins should two be in force
    return out


def review_history(s: Session, unit_id: int, indicator: str | None = None) -> list[tuple[Review, str]]:
    """Every decision on a unit (optionally one indicator), newest first, with the reviewer's name."""
    query = (
        select(Review, User.name)
        .join(User, col(Review.reviewer_id) == col(User.id))
        .where(col(Review.unit_id) == unit_id)
    )
    if indicator is not None:
        query = query.where(col(Review.indicator) == indicator)
    return [(r, str(n)) for r, n in s.exec(query.order_by(col(Review.id).desc())).all()]


def reviewer_names(s: Session, user_ids: Iterable[int]) -> dict[int, str]:
    """User id -> name for the given ids."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return {int(i or 0): str(n) for i, n in s.exec(select(User.id, User.name).where(col(User.id).in_(ids))).all()}


# --------------------------------------------------------------------------- what the workbench reads


def current_visits(s: Session, unit_ids: Sequence[int] | None = None) -> dict[int, Visit]:
    """Per unit, its newest judged visit (status done or failed; any trigger), by unit id."""
    newest: Any = (
        select(col(Visit.unit_id).label("unit_id"), func.max(col(Visit.sweep_id)).label("sweep_id"))
        .where(col(Visit.status).in_(JUDGED_VISIT_STATUSES))
        .group_by(col(Visit.unit_id))
    )
    if unit_ids is not None:
        if not unit_ids:
            return {}
        newest = newest.where(col(Visit.unit_id).in_(list(unit_ids)))
    sub = newest.subquery()
    query = select(Visit).join(sub, (col(Visit.unit_id) == sub.c.unit_id) & (col(Visit.sweep_id) == sub.c.sweep_id))
    return {v.unit_id: v for v in s.exec(query).all()}


def findings_for_visits(s: Session, visit_ids: Sequence[int]) -> dict[int, list[tuple[Finding, list[Evidence]]]]:
    """Per visit, its findings (by id), each with its evidence (by id)."""
    out: dict[int, list[tuple[Finding, list[Evidence]]]] = {vid: [] for vid in visit_ids}
    if not visit_ids:
        return out
    findings = list(s.exec(select(Finding).where(col(Finding.visit_id).in_(list(visit_ids)))
                           .order_by(col(Finding.id))).all())
    by_finding: dict[int, list[Evidence]] = {int(f.id or 0): [] for f in findings}
    if by_finding:
        for ev in s.exec(select(Evidence).where(col(Evidence.finding_id).in_(list(by_finding)))
                         .order_by(col(Evidence.id))).all():
            by_finding[ev.finding_id].append(ev)
    for f in findings:
        out.setdefault(f.visit_id, []).append((f, by_finding[int(f.id or 0)]))
    return out


def unit_visits(s: Session, unit_id: int) -> list[tuple[Visit, Sweep]]:
    """Every judged visit of a unit with its sweep, oldest first."""
    query = (
        select(Visit, Sweep)
        .join(Sweep, col(Visit.sweep_id) == col(Sweep.id))
        .where(col(Visit.unit_id) == unit_id, col(Visit.status).in_(JUDGED_VISIT_STATUSES))
        .order_by(col(Visit.sweep_id))
    )
    return [(v, sw) for v, sw in s.exec(query).all()]


def unit_finding_history(s: Session, unit_id: int) -> dict[str, list[tuple[int, Finding]]]:
    """Per indicator, (sweep id, finding) of each judged visit of the unit, oldest first."""
    query = (
        select(Visit.sweep_id, Finding)
        .join(Visit, col(Finding.visit_id) == col(Visit.id))
        .where(col(Visit.unit_id) == unit_id, col(Visit.status).in_(JUDGED_VISIT_STATUSES))
        .order_by(col(Visit.sweep_id))
    )
    out: dict[str, list[tuple[int, Finding]]] = {}
    for sweep_id, finding in s.exec(query).all():
        out.setdefault(finding.indicator, []).append((int(sweep_id), finding))
    return out


def sweep_scores(s: Session, unit_ids: Sequence[int], trigger: str | None = "sweep") -> list[tuple[Sweep, int, float]]:
    """(sweep, unit id, score) of every scored visit of these units, oldest sweep first.

    Only sweeps of ``trigger`` (default: nightly sweeps; None: every sweep).
    """
    if not unit_ids:
        return []
    query = (
        select(Sweep, Visit.unit_id, Visit.score)
        .join(Visit, col(Visit.sweep_id) == col(Sweep.id))
        .where(col(Visit.unit_id).in_(list(unit_ids)), col(Visit.score).is_not(None))
    )
    if trigger is not None:
        query = query.where(col(Sweep.trigger) == trigger)
    rows = s.exec(query.order_by(col(Sweep.id))).all()
    return [(sw, int(uid), float(score)) for sw, uid, score in rows if score is not None]


def finding_context(s: Session, finding_id: int) -> tuple[Finding, Visit, Unit] | None:
    """A finding with its visit and unit, or None."""
    row = s.exec(
        select(Finding, Visit, Unit)
        .join(Visit, col(Finding.visit_id) == col(Visit.id))
        .join(Unit, col(Visit.unit_id) == col(Unit.id))
        .where(col(Finding.id) == finding_id)
    ).one_or_none()
    return (row[0], row[1], row[2]) if row else None


def evidence_context(s: Session, evidence_id: int) -> tuple[Evidence, Finding, Unit, Page | None] | None:
    """An evidence row with its finding, unit and (if still linked) the page, without page text."""
    row = s.exec(
        select(Evidence, Finding, Unit)
        .join(Finding, col(Evidence.finding_id) == col(Finding.id))
        .join(Visit, col(Finding.visit_id) == col(Visit.id))
        .join(Unit, col(Visit.unit_id) == col(Unit.id))
        .where(col(Evidence.id) == evidence_id)
    ).one_or_none()
    if row is None:
        return None
    ev, finding, unit = row
    page = None
    if ev.page_id is not None:
        page = s.exec(select(Page).options(defer(Page.text), defer(Page.document))  # type: ignore[arg-type]
                      .where(col(Page.id) == ev.page_id)).one_or_none()
    return ev, finding, unit, page


PAGE_TEXT_MAX_CHARS = 1_000_000


def page_text(s: Session, page_id: int) -> str:
    """The extracted text of one page, or of the earlier page it stands for ("" when there is none).

    A sweep stores a page's document, not its text a second time: the text is then the document's
    blocks, one per line (as `checks.document.Document.text` joins them)."""
    row = s.exec(select(Page.text, Page.document, Page.reused_from).where(col(Page.id) == page_id)).one_or_none()
    if row is None:
        return ""
    text, document, reused_from = row
    if not text and not document and reused_from is not None:
        row = s.exec(select(Page.text, Page.document, Page.reused_from).where(col(Page.id) == reused_from)
                     ).one_or_none()
        text, document = (row[0], row[1]) if row else ("", None)
    if not text and document:
        try:
            blocks = json.loads(document).get("blocks") or []
            text = "\n".join(str(b.get("text", "")) for b in blocks if isinstance(b, dict))
        except (ValueError, AttributeError):
            return ""
    return (text or "")[:PAGE_TEXT_MAX_CHARS]


def visit_page_count(s: Session, visit_id: int) -> int:
    """How many pages a visit has stored so far (the live progress of a crawl)."""
    return int(s.exec(select(func.count()).select_from(Page).where(col(Page.visit_id) == visit_id)).one())


def newest_visit_since(s: Session, unit_id: int, after_sweep_id: int) -> Visit | None:
    """The unit's newest visit in a sweep newer than ``after_sweep_id`` (a self-check just started)."""
    query = (
        select(Visit)
        .where(col(Visit.unit_id) == unit_id, col(Visit.sweep_id) > after_sweep_id)
        .order_by(col(Visit.sweep_id).desc())
        .limit(1)
    )
    return s.exec(query).first()


def max_sweep_id(s: Session) -> int:
    """The highest sweep id so far (0 when there is none)."""
    return int(s.exec(select(func.max(col(Sweep.id)))).one() or 0)


def units_by_ids(s: Session, unit_ids: Iterable[int]) -> dict[int, Unit]:
    """Unit id -> unit for the given ids."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    return {int(u.id or 0): u for u in s.exec(select(Unit).where(col(Unit.id).in_(ids))).all()}


def all_units(s: Session) -> list[Unit]:
    """Every unit, by province, region and name."""
    return list(s.exec(select(Unit).order_by(col(Unit.province), col(Unit.region), col(Unit.name))).all())


def as_dict(review: Review) -> dict[str, Any]:
    """A review as plain data (for JSON output)."""
    return {"id": review.id, "unit_id": review.unit_id, "indicator": review.indicator, "decision": review.decision,
            "status_after": review.status_after, "note": review.note, "reviewer_id": review.reviewer_id,
            "finding_id": review.finding_id, "evidence_key": review.evidence_key,
            "created_at": review.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "superseded_at": review.superseded_at.strftime("%Y-%m-%dT%H:%M:%SZ") if review.superseded_at else None}


__all__ = [
    "KEY_VERSION",
    "active_reviews",
    "add_review",
    "add_user",
    "all_units",
    "as_dict",
    "create_login_session",
    "current_visits",
    "delete_login_session",
    "evidence_context",
    "evidence_key",
    "finding_context",
    "finding_key",
    "findings_for_visits",
    "get_login_session",
    "get_user",
    "get_user_by_name",
    "list_users",
    "max_sweep_id",
    "newest_visit_since",
    "page_text",
    "purge_expired",
    "recent_failures",
    "record_login_attempt",
    "review_history",
    "reviewer_names",
    "searched_hashes",
    "sweep_scores",
    "unit_finding_history",
    "unit_visits",
    "units_by_ids",
    "update_user",
    "user_regions",
    "user_unit_urls",
    "visit_page_count",
]
