"""The rule catalogue: one enabled rule per indicator of indicators.yaml, each fully described."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import yaml

from checks.judge import BANDS_2022, grade, score, unknown_verdicts
from checks.rules.base import enabled_rules

SHARED = Path(__file__).resolve().parents[2] / "shared" / "indicators.yaml"


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/indicators.yaml is not beside this checkout")
def test_rules_match_the_indicator_catalogue() -> None:
    catalogue = yaml.safe_load(SHARED.read_text(encoding="utf-8"))
    ids = [i["id"] for i in catalogue["indicators"]]
    assert [r.id for r in enabled_rules()] == ids
    titles = {i["id"]: i["title"] for i in catalogue["indicators"]}
    for r in enabled_rules():
        assert r.title == titles[r.id]
    bands = [(b["min"], b["grade"], b["label"], b["zone"]) for b in catalogue["scoring"]["bands_2022"]]
    assert bands == BANDS_2022


@pytest.mark.parametrize("rule", enabled_rules(), ids=lambda r: r.id)
def test_rule_describes_itself(rule) -> None:  # type: ignore[no-untyped-def]
    doc = inspect.getdoc(rule) or ""
    for heading in ("Looks for:", "Why:", "Evidence:", "Limits:"):
        assert heading in doc, f"{rule.id} docstring lacks {heading}"
    assert rule.weight > 0 and rule.version >= 1 and rule.basis and rule.short


@pytest.mark.parametrize(("value", "expected"), [
    (100.0, ("A", "hijau")), (88.0, ("A", "hijau")), (87.9, ("B", "hijau")), (78.0, ("B", "hijau")),
    (77.9, ("C", "kuning")), (54.0, ("C", "kuning")), (53.9, ("D", "merah")), (32.0, ("D", "merah")),
    (31.9, ("E", "merah")), (0.0, ("E", "merah")),
])
def test_grade_bands(value: float, expected: tuple[str, str]) -> None:
    g, _, zone = grade(value)
    assert (g, zone) == expected


def test_unreachable_site_is_unknown_and_has_no_score() -> None:
    verdicts = unknown_verdicts("HTTP 500")
    assert {v.status for v in verdicts} == {"unknown"}
    assert all("HTTP 500" in v.summary for v in verdicts)
    assert score({v.indicator: v.status for v in verdicts}) is None and grade(None) == (None, None, None)
