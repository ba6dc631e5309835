"""From a unit's documents to one finding per indicator, and from findings to a score and zone.

The weights live on the rules; the bands are Ombudsman's (indicators.yaml, scoring.bands_2022).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from checks.document import Document
from checks.rules.base import Hit, Rule, enabled_rules
from checks.text import context, reading_cache

PRESENT_AT = 0.5
MAX_EVIDENCE = 5
MAX_SITEWIDE_EVIDENCE = 2

BANDS_2022 = [  # (min score, grade, label, zone)
    (88.0, "A", "Kualitas Tertinggi", "hijau"),
    (78.0, "B", "Kualitas Tinggi", "hijau"),
    (54.0, "C", "Kualitas Sedang", "kuning"),
    (32.0, "D", "Kualitas Rendah", "merah"),
    (0.0, "E", "Kualitas Terendah", "merah"),
]


@dataclass(slots=True)
class Verdict:
    indicator: str
    title: str
    status: str  # present, absent, unknown
    confidence: float
    rule_id: str
    rule_version: int
    summary: str
    evidence: list[Hit] = field(default_factory=list)


def _searched(kinds: Mapping[str, int]) -> str:
    parts = [f"{n} {k.upper() if k != 'image' else 'gambar'}" for k, n in sorted(kinds.items()) if n]
    return f"tidak ditemukan pada {sum(kinds.values())} dokumen yang diperiksa ({', '.join(parts) or 'tidak ada'})"


def inspect(doc: Document, rules: list[Rule] | None = None) -> list[Hit]:
    """Every rule's hits on one document: the page-level evidence, found once when the page is read."""
    rules = rules if rules is not None else enabled_rules()
    with reading_cache():
        ctx = context(doc)
        return [h for r in rules for h in r.inspect(doc, ctx)]


def judge(docs: Iterable[Document], rules: list[Rule] | None = None) -> list[Verdict]:
    """Run every rule over every document and decide each indicator."""
    rules = rules if rules is not None else enabled_rules()
    hits: list[Hit] = []
    kinds: Counter[str] = Counter()
    for doc in docs:
        hits.extend(inspect(doc, rules))
        kinds[doc.kind] += 1
    return decide(hits, kinds, rules)


def decide(hits: Iterable[Hit], kinds: Mapping[str, int], rules: list[Rule] | None = None) -> list[Verdict]:
    """One verdict per indicator from a unit's page-level hits (in page order) and the number of
    documents of each kind that were read."""
    rules = rules if rules is not None else enabled_rules()
    by_rule: dict[str, list[Hit]] = {r.id: [] for r in rules}
    for h in hits:
        if h.indicator in by_rule:
            by_rule[h.indicator].append(h)
    verdicts = []
    for r in rules:
        found = sorted(by_rule[r.id], key=lambda h: -h.confidence)
        best: list[Hit] = []
        seen_urls: set[str] = set()
        sitewide = 0
        for h in found:  # best hit per page first, so the evidence list spans pages
            if h.url in seen_urls:
                continue
            seen_urls.add(h.url)
            if "area:" in h.locator:  # header/footer text repeats on every page: two examples suffice
                sitewide += 1
                if sitewide > MAX_SITEWIDE_EVIDENCE:
                    continue
            best.append(h)
            if len(best) >= MAX_EVIDENCE:
                break
        conf = best[0].confidence if best else 0.0
        present = conf >= PRESENT_AT
        summary = (f"ditemukan pada {len(seen_urls)} dokumen" if present else _searched(kinds))
        verdicts.append(Verdict(
            indicator=r.id, title=r.title, status="present" if present else "absent",
            confidence=round(conf if present else 1.0 - conf, 2), rule_id=type(r).__name__,
            rule_version=r.version, summary=summary, evidence=best if present else [],
        ))
    return verdicts


def unknown_verdicts(reason: str, rules: list[Rule] | None = None) -> list[Verdict]:
    """Every indicator unknown: the site could not be read (never `absent` for our own failure)."""
    rules = rules if rules is not None else enabled_rules()
    return [Verdict(indicator=r.id, title=r.title, status="unknown", confidence=0.0, rule_id=type(r).__name__,
                    rule_version=r.version, summary=f"situs tidak dapat dibaca: {reason}") for r in rules]


def score(statuses: Mapping[str, str], rules: list[Rule] | None = None) -> float | None:
    """Weighted share of present indicators (indicator -> status), 0-100; None when nothing was decided."""
    rules = rules if rules is not None else enabled_rules()
    weights = {r.id: r.weight for r in rules}
    decided = {k: v for k, v in statuses.items() if v != "unknown" and k in weights}
    total = sum(weights[k] for k in decided)
    if not total:
        return None
    got = sum(weights[k] for k, v in decided.items() if v == "present")
    return round(100.0 * got / total, 1)


def grade(value: float | None) -> tuple[str | None, str | None, str | None]:
    """(grade, label, zone) of the 2022 bands."""
    if value is None:
        return None, None, None
    for minimum, g, label, zone in BANDS_2022:
        if value >= minimum:
            return g, label, zone
    return "E", "Kualitas Terendah", "merah"
