"""What the workbench shows and decides, shared by the web UI and `patuh review`.

- **Scope** — who may see which unit: an admin every unit; an assessor the units whose
  kabupaten/kota (``Unit.region``) or province is one of their regions; an agency the units whose
  URL is one of theirs. Enforced server-side on every route that names a unit, finding or
  evidence row (a foreign unit is 404, as if it did not exist).
- **Decisions** — a review attaches to (unit, indicator) and applies to the unit's current
  finding while that finding's evidence key (``storage.reviews.evidence_key``) is the key the
  decision was made on. When the key differs the decision is shown as "bukti berubah" and the
  finding returns to the queue if it qualifies for it, or if its status disagrees with the
  earlier decision.
- **The queue** — the current findings (of each unit's newest judged visit) that are ``absent``
  or ``present`` with confidence below 0.7 (``unknown`` ones on request), without a decision in
  force.
- **Impact** — the queue is sorted by what a wrong finding costs the unit: first the findings
  whose reversal would change the unit's grade (predikat, 2022 bands), then by the score points
  that reversing it would move (the indicator's weight as a share of the weights decided: for
  the demo's 12 indicators 6–10 of 104 points, i.e. 5.8–9.6 points), then by lower confidence.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from checks.judge import grade, score
from checks.rules.base import Rule, enabled_rules
from storage import repo
from storage import reviews as rv
from storage.models import Evidence, Finding, Review, Sweep, Unit, User, Visit

LOW_CONFIDENCE = 0.7
STATUS_ID = {"present": "ada", "absent": "tidak ada", "unknown": "tidak diketahui"}
DECISION_ID = {"confirm": "dikonfirmasi", "overrule": "dikoreksi"}
QUEUE_STATUSES = {
    "": "Tidak ada + keyakinan rendah",
    "absent": "Tidak ada",
    "low": "Keyakinan rendah",
    "changed": "Bukti berubah",
    "unknown": "Tidak diketahui",
    "all": "Semua yang perlu ditelaah",
}
QUEUE_SORTS = {"dampak": "Dampak terbesar", "keyakinan": "Keyakinan terendah", "unit": "Unit (A–Z)"}
ROLE_ID = {"admin": "admin", "assessor": "penilai", "agency": "instansi"}


class NotAllowed(Exception):
    """The user may not do this to this unit."""


class NotFound(Exception):
    """No such thing, or not one the user may see."""


# --------------------------------------------------------------------------- rules


def rule_index() -> dict[str, Rule]:
    """The enabled rules by indicator id, in the catalogue's order."""
    return {r.id: r for r in enabled_rules()}


def indicator_title(indicator: str) -> str:
    """The Indonesian title of an indicator."""
    r = rule_index().get(indicator)
    return r.title if r else indicator


# --------------------------------------------------------------------------- scope


def normalise_url(url: str) -> str:
    """A unit URL compared loosely: scheme and host lower-case, no trailing slash."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}{query}"


class Scope:
    """What one user (or the terminal, ``user=None``: every unit) may see and decide."""

    def __init__(self, user: User | None) -> None:
        self.user = user
        self.role = user.role if user else "admin"
        self.regions = {r.casefold() for r in rv.user_regions(user)} if user else set()
        self.urls = {normalise_url(u) for u in rv.user_unit_urls(user)} if user else set()

    def sees(self, unit: Unit) -> bool:
        """Whether the unit is within this user's scope."""
        if self.role == "admin":
            return True
        if self.role == "assessor":
            return unit.region.casefold() in self.regions or (unit.province or "").casefold() in self.regions
        if self.role == "agency":
            return normalise_url(unit.url) in self.urls
        return False

    def can_review(self, unit: Unit) -> bool:
        """Whether the user may confirm or overrule findings of the unit."""
        return self.role in ("admin", "assessor") and self.sees(unit)

    @property
    def reviews(self) -> bool:
        """Whether the user reviews at all (admin or assessor)."""
        return self.role in ("admin", "assessor")

    def units(self, s: Any) -> list[Unit]:
        """Every unit this user sees."""
        return [u for u in rv.all_units(s) if self.sees(u)]


# --------------------------------------------------------------------------- views


@dataclass
class FindingView:
    """A finding with its evidence, key and the decision on its (unit, indicator)."""

    finding: Finding
    evidence: list[Evidence]
    title: str
    weight: float
    key: str
    review: Review | None = None
    reviewer: str = ""

    @property
    def review_state(self) -> str:
        """``none``, ``applies`` (the decision stands) or ``changed`` (made on other evidence)."""
        if self.review is None:
            return "none"
        return "applies" if self.review.evidence_key == self.key else "changed"

    @property
    def status(self) -> str:
        """The status after review: the decision's when it applies, else the machine's."""
        if self.review is not None and self.review_state == "applies":
            return self.review.status_after
        return self.finding.status

    @property
    def low_confidence(self) -> bool:
        """A present finding the machine is not sure of."""
        return self.finding.status == "present" and self.finding.confidence < LOW_CONFIDENCE

    def queue_reasons(self, status_filter: str = "") -> list[str]:
        """Why the finding is in the queue (Indonesian labels); empty when it is not."""
        f = self.finding
        state = self.review_state
        if state == "applies":
            return []
        reasons = []
        if f.status == "absent":
            reasons.append("tidak ada")
        if self.low_confidence:
            reasons.append("keyakinan rendah")
        if f.status == "unknown" and status_filter in ("unknown", "all"):
            reasons.append("tidak diketahui")
        if state == "changed" and (reasons or (self.review is not None and f.status != self.review.status_after)):
            reasons.insert(0, "bukti berubah")
        return reasons


@dataclass
class UnitView:
    """A unit with its current visit, findings, and its scores before and after review."""

    unit: Unit
    visit: Visit | None
    findings: list[FindingView] = field(default_factory=list)

    @property
    def machine_score(self) -> float | None:
        """The score the crawl gave."""
        return self.visit.score if self.visit else None

    @property
    def score(self) -> float | None:
        """The score with the decisions in force applied."""
        if self.visit is None or not self.findings:
            return self.machine_score
        return score({fv.finding.indicator: fv.status for fv in self.findings})

    @property
    def reviewed(self) -> bool:
        """Whether any decision changes a status."""
        return any(fv.review_state == "applies" and fv.status != fv.finding.status for fv in self.findings)

    @property
    def grade(self) -> tuple[str | None, str | None, str | None]:
        """(grade, label, zone) of ``score``."""
        return grade(self.score)

    def statuses(self) -> dict[str, str]:
        """Indicator -> status after review."""
        return {fv.finding.indicator: fv.status for fv in self.findings}


def build_views(s: Any, units: Sequence[Unit], visits: dict[int, Visit] | None = None) -> list[UnitView]:
    """A ``UnitView`` per unit (in order), for its current visit (or the given ``visits``)."""
    ids = [int(u.id or 0) for u in units]
    visits = visits if visits is not None else rv.current_visits(s, ids)
    visit_ids = [int(v.id or 0) for v in visits.values()]
    findings = rv.findings_for_visits(s, visit_ids)
    need_pages = [vid for vid, rows in findings.items() if any(f.status != "present" for f, _ in rows)]
    searched = rv.searched_hashes(s, need_pages)
    reviews = rv.active_reviews(s, ids)
    names = rv.reviewer_names(s, [r.reviewer_id for r in reviews.values()])
    rules = rule_index()
    order = {rid: n for n, rid in enumerate(rules)}
    views = []
    for unit in units:
        uid = int(unit.id or 0)
        visit = visits.get(uid)
        view = UnitView(unit=unit, visit=visit)
        if visit is not None:
            for finding, evidence in findings.get(int(visit.id or 0), []):
                r = rules.get(finding.indicator)
                key = rv.evidence_key(finding.status, [e.sha256 for e in evidence],
                                      searched.get(finding.visit_id, []))
                review = reviews.get((uid, finding.indicator))
                view.findings.append(FindingView(
                    finding=finding, evidence=evidence, title=r.title if r else finding.indicator,
                    weight=float(r.weight) if r else 0.0, key=key, review=review,
                    reviewer=names.get(review.reviewer_id, "") if review else ""))
            view.findings.sort(key=lambda fv: order.get(fv.finding.indicator, 999))
        views.append(view)
    return views


# --------------------------------------------------------------------------- the queue


@dataclass
class QueueItem:
    """One finding waiting for a decision, with what reversing it would do to the unit."""

    view: UnitView
    fv: FindingView
    reasons: list[str]
    delta: float  # score points after reversing the finding, minus now
    new_grade: str | None
    crosses: bool  # reversing it changes the unit's grade

    @property
    def points(self) -> float:
        """How many score points the finding moves."""
        return abs(self.delta)


def _reversed(status: str) -> str:
    return "absent" if status == "present" else "present"


def queue_item(view: UnitView, fv: FindingView, reasons: list[str]) -> QueueItem:
    """The queue entry of ``fv``, with its impact on the unit's score and grade."""
    statuses = view.statuses()
    now = score(statuses)
    statuses[fv.finding.indicator] = _reversed(fv.status)
    after = score(statuses)
    delta = (after or 0.0) - (now or 0.0)
    new_grade = grade(after)[0]
    return QueueItem(view=view, fv=fv, reasons=reasons, delta=round(delta, 1), new_grade=new_grade,
                     crosses=new_grade != grade(now)[0])


def build_queue(
    s: Any,
    scope: Scope,
    *,
    region: str | None = None,
    kind: str | None = None,
    indicator: str | None = None,
    status: str = "",
    sort: str = "dampak",
    views: list[UnitView] | None = None,
) -> list[QueueItem]:
    """The review queue of ``scope``, filtered and sorted (see the module docstring)."""
    units = [u for u in scope.units(s)
             if (not region or u.region.casefold() == region.casefold() or
                 (u.province or "").casefold() == region.casefold())
             and (not kind or u.kind.casefold() == kind.casefold())]
    views = views if views is not None else build_views(s, units)
    items: list[QueueItem] = []
    for view in views:
        for fv in view.findings:
            if indicator and fv.finding.indicator != indicator:
                continue
            reasons = fv.queue_reasons(status)
            if not reasons:
                continue
            if status == "absent" and "tidak ada" not in reasons:
                continue
            if status == "low" and "keyakinan rendah" not in reasons:
                continue
            if status == "changed" and "bukti berubah" not in reasons:
                continue
            if status == "unknown" and "tidak diketahui" not in reasons:
                continue
            items.append(queue_item(view, fv, reasons))
    order = {rid: n for n, rid in enumerate(rule_index())}
    if sort == "keyakinan":
        items.sort(key=lambda q: (q.fv.finding.confidence, -q.points, q.view.unit.name.casefold()))
    elif sort == "unit":
        items.sort(key=lambda q: (q.view.unit.region.casefold(), q.view.unit.name.casefold(),
                                  order.get(q.fv.finding.indicator, 999)))
    else:
        items.sort(key=lambda q: (not q.crosses, -q.points, q.fv.finding.confidence,
                                  q.view.unit.name.casefold(), order.get(q.fv.finding.indicator, 999)))
    return items


# --------------------------------------------------------------------------- deciding


def decide(
    s: Any,
    actor: User,
    finding_id: int,
    decision: str,
    note: str = "",
    status_after: str | None = None,
) -> Review:
    """Confirm or overrule one current finding on behalf of ``actor``; returns the stored review.

    Raises ``NotFound`` (no such finding, or not visible to the actor), ``NotAllowed`` (the actor
    may see but not decide) or ``ValueError`` (a bad decision, a missing note, an old finding).
    """
    scope = Scope(actor)
    ctx = rv.finding_context(s, finding_id)
    if ctx is None or not scope.sees(ctx[2]):
        raise NotFound(f"Temuan #{finding_id} tidak ditemukan.")
    finding, visit, unit = ctx
    if not scope.can_review(unit):
        raise NotAllowed("Hanya penilai dan admin yang dapat memutuskan temuan.")
    current = rv.current_visits(s, [int(unit.id or 0)]).get(int(unit.id or 0))
    if current is None or current.id != visit.id:
        raise ValueError("Temuan ini sudah digantikan oleh pemeriksaan yang lebih baru; buka temuan terbaru.")
    note = note.strip()
    if decision == "confirm":
        if finding.status not in ("present", "absent"):
            raise ValueError("Temuan 'tidak diketahui' tidak dapat dikonfirmasi; koreksi menjadi ada atau tidak ada.")
        after = finding.status
    elif decision == "overrule":
        after = status_after or ("absent" if finding.status == "present" else
                                 "present" if finding.status == "absent" else "")
        if after not in ("present", "absent") or after == finding.status:
            raise ValueError("Koreksi harus mengubah status menjadi 'ada' atau 'tidak ada'.")
        if not note:
            raise ValueError("Koreksi memerlukan catatan alasan.")
    else:
        raise ValueError("Keputusan harus 'confirm' atau 'overrule'.")
    if len(note) > 4000:
        raise ValueError("Catatan terlalu panjang (maksimal 4000 karakter).")
    evidence = [ev for ev, _ in (repo.finding_with_evidence(s, finding_id) or (None, []))[1]]
    key = rv.finding_key(s, finding, evidence)
    return rv.add_review(s, unit_id=int(unit.id or 0), indicator=finding.indicator, decision=decision,
                         status_after=after, note=note, reviewer_id=int(actor.id or 0), finding_id=finding.id,
                         evidence_key=key)


# --------------------------------------------------------------------------- dashboard


@dataclass
class RegionGroup:
    """A kabupaten/kota on the dashboard."""

    name: str
    views: list[UnitView]
    trend: list[tuple[str, float]]
    missing: list[tuple[str, int]]

    @property
    def average(self) -> float | None:
        """The mean reviewed score of its scored units."""
        scores = [v.score for v in self.views if v.score is not None]
        return round(sum(scores) / len(scores), 1) if scores else None


@dataclass
class ProvinceGroup:
    """A province on the dashboard."""

    name: str
    regions: list[RegionGroup]

    @property
    def average(self) -> float | None:
        """The mean reviewed score of its scored units."""
        scores = [v.score for r in self.regions for v in r.views if v.score is not None]
        return round(sum(scores) / len(scores), 1) if scores else None


def trend_of(rows: Iterable[tuple[Sweep, int, float]]) -> list[tuple[str, float]]:
    """(label, mean score) per sweep, oldest first."""
    by_sweep: dict[int, list[float]] = defaultdict(list)
    started: dict[int, Sweep] = {}
    for sweep, _uid, value in rows:
        by_sweep[int(sweep.id or 0)].append(value)
        started[int(sweep.id or 0)] = sweep
    out = []
    for sid in sorted(by_sweep):
        values = by_sweep[sid]
        out.append((f"#{sid} {started[sid].started_at:%d-%m-%Y}", round(sum(values) / len(values), 1)))
    return out


def most_missing(views: Iterable[UnitView], limit: int = 5) -> list[tuple[str, int]]:
    """The indicators most often absent (after review) among ``views``: (title, units)."""
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for view in views:
        for fv in view.findings:
            if fv.status == "absent":
                counts[fv.finding.indicator] += 1
                titles[fv.finding.indicator] = fv.title
    return [(titles[i], n) for i, n in counts.most_common(limit)]


def dashboard(s: Any, scope: Scope, province: str | None = None, kind: str | None = None) -> list[ProvinceGroup]:
    """Province → kabupaten/kota → unit views of everything ``scope`` sees."""
    units = [u for u in scope.units(s)
             if (not province or (u.province or "").casefold() == province.casefold())
             and (not kind or u.kind.casefold() == kind.casefold())]
    views = build_views(s, units)
    scores = rv.sweep_scores(s, [int(u.id or 0) for u in units])
    by_unit: dict[int, list[tuple[Sweep, int, float]]] = defaultdict(list)
    for row in scores:
        by_unit[row[1]].append(row)
    tree: dict[str, dict[str, list[UnitView]]] = defaultdict(lambda: defaultdict(list))
    for view in views:
        tree[view.unit.province or "Provinsi belum diisi"][view.unit.region].append(view)
    groups = []
    for prov in sorted(tree, key=str.casefold):
        regions = []
        for reg in sorted(tree[prov], key=str.casefold):
            rviews = sorted(tree[prov][reg], key=lambda v: v.unit.name.casefold())
            rows = [row for v in rviews for row in by_unit.get(int(v.unit.id or 0), [])]
            regions.append(RegionGroup(name=reg, views=rviews, trend=trend_of(rows), missing=most_missing(rviews)))
        groups.append(ProvinceGroup(name=prov, regions=regions))
    return groups


# --------------------------------------------------------------------------- reports


def annotate_report(report: dict[str, Any], view: UnitView) -> dict[str, Any]:
    """Add the decisions in force to a ``patuh.report/1`` object (new fields only; nothing changes meaning).

    Each finding gains ``reviewed_status`` and, when there is a decision, ``review``
    (decision, status_after, note, reviewer, at, applies); the unit gains ``reviewed_score``,
    ``reviewed_grade`` and ``reviewed_zone``.
    """
    by_indicator = {fv.finding.indicator: fv for fv in view.findings}
    for f in report.get("findings", []):
        fv = by_indicator.get(f["indicator"])
        if fv is None:
            continue
        f["reviewed_status"] = fv.status
        if fv.review is not None:
            f["review"] = {"decision": fv.review.decision, "status_after": fv.review.status_after,
                           "note": fv.review.note, "reviewer": fv.reviewer,
                           "at": fv.review.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "applies": fv.review_state == "applies"}
    g, label, zone = view.grade
    report["reviewed_score"] = view.score
    report["reviewed_grade"] = g
    report["reviewed_grade_label"] = label
    report["reviewed_zone"] = zone
    return report


def reports_for(s: Any, views: Iterable[UnitView]) -> list[dict[str, Any]]:
    """The annotated ``patuh.report/1`` objects of the views that have a visit."""
    from crawler.report import unit_report

    out = []
    for view in views:
        if view.visit is None:
            continue
        sweep = repo.get_sweep(s, view.visit.sweep_id)
        if sweep is None:
            continue
        out.append(annotate_report(unit_report(s, sweep, view.visit, view.unit), view))
    return out


def annotate_stored_reports(s: Any, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``annotate_report`` for reports built elsewhere (``patuh report``), matched by unit URL and sweep id."""
    by_sweep: dict[int, dict[str, tuple[Visit, Unit]]] = {}
    for report in reports:
        sweep_id = report.get("sweep", {}).get("id")
        if sweep_id is None:
            continue
        if sweep_id not in by_sweep:
            by_sweep[sweep_id] = {u.url: (v, u) for v, u in repo.visits_for_sweep(s, sweep_id)}
        found = by_sweep[sweep_id].get(report["unit"]["url"])
        if found is None:
            continue
        visit, unit = found
        annotate_report(report, build_views(s, [unit], visits={int(unit.id or 0): visit})[0])
    return reports


def as_json(item: QueueItem) -> dict[str, Any]:
    """A queue entry as plain data (``patuh review list --json``)."""
    f = item.fv.finding
    return {"finding_id": f.id, "unit": item.view.unit.name, "unit_id": item.view.unit.id,
            "region": item.view.unit.region, "kind": item.view.unit.kind, "indicator": f.indicator,
            "title": item.fv.title, "status": f.status, "confidence": f.confidence, "reasons": item.reasons,
            "impact_points": item.points, "changes_grade": item.crosses, "grade_after": item.new_grade,
            "previous_decision": rv.as_dict(item.fv.review) if item.fv.review else None}


__all__ = [
    "DECISION_ID",
    "LOW_CONFIDENCE",
    "QUEUE_SORTS",
    "QUEUE_STATUSES",
    "ROLE_ID",
    "STATUS_ID",
    "FindingView",
    "NotAllowed",
    "NotFound",
    "ProvinceGroup",
    "QueueItem",
    "RegionGroup",
    "Scope",
    "UnitView",
    "annotate_report",
    "annotate_stored_reports",
    "as_json",
    "build_queue",
    "build_views",
    "dashboard",
    "decide",
    "indicator_title",
    "most_missing",
    "normalise_url",
    "reports_for",
    "rule_index",
    "trend_of",
]
