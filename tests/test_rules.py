"""Every rule on frozen pages: `tests/fixtures/rules/<id>/present-*.html` and `absent-*.html`.

The file name decides the expected status of that indicator; one parametrised test walks them all.
A present case must also carry evidence that points at the page with a non-empty snippet.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from checks.extract_html import extract_html
from checks.judge import judge
from checks.rules.base import enabled_rules

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CASES = sorted(FIXTURES.glob("*/*.html"))


def test_every_rule_has_present_and_absent_fixtures() -> None:
    for r in enabled_rules():
        names = [p.name for p in (FIXTURES / r.id).glob("*.html")]
        assert sum(n.startswith("present-") for n in names) >= 3, r.id
        assert sum(n.startswith("absent-") for n in names) >= 3, r.id


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_rule_on_frozen_page(path: Path) -> None:
    indicator = path.parent.name
    expected = "present" if path.name.startswith("present-") else "absent"
    url = f"http://unit.example/{indicator}/{path.name}"
    doc = extract_html(url, path.read_text(encoding="utf-8"))
    doc.sha256 = "0" * 64
    doc.captured_at = "2026-01-01T00:00:00Z"
    verdict = next(v for v in judge([doc]) if v.indicator == indicator)
    got = [(h.snippet, h.locator) for h in verdict.evidence[:1]]
    assert verdict.status == expected, f"{indicator}: {path.name} -> {verdict.status} {got}"
    if expected == "present":
        assert verdict.evidence and verdict.evidence[0].url == url and verdict.evidence[0].snippet
    else:
        assert not verdict.evidence and "dokumen" in verdict.summary


def _fixture_docs() -> list:
    docs = []
    for n, path in enumerate(CASES):
        doc = extract_html(f"http://unit.example/{n}/{path.name}", path.read_text(encoding="utf-8"))
        doc.sha256, doc.captured_at = f"{n:064d}", "2026-01-01T00:00:00Z"
        docs.append(doc)
    return docs


def test_page_level_hits_decide_as_the_whole_unit_judged_at_once() -> None:
    """The sweep finds each page's hits when it reads the page (`inspect`) and decides the unit from
    them (`decide`); that must equal judging all of the unit's documents at the end, evidence order
    included, and the stored JSON of a document must give the same hits as the document itself."""
    from collections import Counter

    from checks.document import Document
    from checks.judge import decide, inspect

    docs = _fixture_docs()
    whole = judge(docs)
    hits = [h for d in docs for h in inspect(d)]
    assert decide(hits, Counter(d.kind for d in docs)) == whole
    assert sum(len(v.evidence) for v in whole) > 20  # the fixtures make a unit with much evidence
    for doc in docs:
        assert inspect(Document.from_json(doc.to_json())) == inspect(doc), doc.url


def test_memo_pattern_answers_as_the_regex_and_stays_bounded() -> None:
    """Rules' patterns remember answers per text (sitewide boilerplate repeats); the answers must be
    the compiled regex's own, and the memory must not grow past its bound."""
    import re

    from checks.text import MemoPattern

    plain = re.compile(r"(?<![\d.,])(\d+)[.,](\d{2})(?!\s*orang)")
    memo = MemoPattern(plain, size=50)
    texts = [f"nilai {n},{n % 100:02d} {'orang' if n % 3 == 0 else 'poin'}" for n in range(200)] * 2
    texts += ["x" * 400 + " 1,25", "12,50 " + "y" * 400]  # long texts are not remembered
    for t in texts + ["nilai 7,07 poin"] * 3:
        a, b = memo.search(t), plain.search(t)
        assert (a and a.group(0)) == (b and b.group(0))
        assert bool(memo.match(t)) == bool(plain.match(t))
        assert memo.remembered() <= 4 * 50
    assert memo.sub("#", "1,25 dan 3,50") == plain.sub("#", "1,25 dan 3,50") and memo.pattern == plain.pattern


@pytest.mark.parametrize("text", ["ramp", "tramp", "a ramp.", "xramp", "_ramp", "1ramp", "é ramp", "éramp", "ramp2",
                                  "skm", "eskm", "nilai skm 82", "lapor!", "melapor", "(ramp)", ""])
def test_boundary_written_after_the_first_letter_matches_the_same(text: str) -> None:
    import re

    for word in ("ramp", "skm", "lapor"):
        plain = re.compile(rf"(\b{word}\b|zzz)")
        fast = re.compile(rf"({word[0]}(?<!\w{word[0]}){word[1:]}\b|zzz)")
        a, b = plain.search(text), fast.search(text)
        assert (a and (a.start(), a.group(0))) == (b and (b.start(), b.group(0)))


def _rule_patterns() -> list:
    import gc

    from checks.text import MemoPattern

    enabled_rules()
    return sorted((o for o in gc.get_objects() if isinstance(o, MemoPattern)), key=lambda p: p.pattern)


# texts where Python's Unicode classes and RE2's ASCII ones part ways, and edge positions of lookarounds
_ODD_TEXTS = [
    "jöhn.dœ@exämple.go.id", "Telp. (0381) ٢١٣٤٥", "nilai ikm ۸۵,٢٣ responden",
    "senin\u00a0-\u2003jumat 08.00\u202f- 15.00",
    "pukul 07.30\u3000s/d 14.00 wita", "skm\u0301 hasil 3,41", "ramp\u0300 kursi roda", "x" * 90 + "\ud800 lapor.go.id",
    "hasil skm 82,35\norang", "1708\n", "\tpengaduan\x1cwa 0812-3456-7890\x1f", "ǅemo kami menyatakan sanggup akan",
]


@functools.cache
def _fixture_texts() -> list[str]:
    from checks.text import lines

    docs = _fixture_docs()
    texts = [ln.norm for d in docs for ln in lines(d, ("main", "header", "footer", "aside", "nav"))]
    return texts + [b.text for d in docs for b in d.blocks] + _ODD_TEXTS


@pytest.mark.parametrize("pattern", _rule_patterns(), ids=lambda p: p.pattern[:40])
def test_prefilter_never_says_no_where_the_regex_matches(pattern) -> None:
    """A rule pattern's RE2 prefilter may only answer "no match" where the regex has none: on every
    line of the rule fixtures, and on texts with non-ASCII digits, letters and spaces."""
    from checks import prefilter

    if pattern._pre is None:
        pytest.skip("no prefilter (flags)")
    matched = 0
    texts = _fixture_texts()
    for text in texts:
        for t in (text, text * 3):  # long enough for the prefilter
            if pattern.regex.search(t) or pattern.regex.match(t):
                matched += 1
                assert prefilter.can_match(pattern._pre, t), (pattern.pattern, t)
            assert (pattern.search(t) and pattern.search(t).span()) == (pattern.regex.search(t) and
                                                                        pattern.regex.search(t).span())
    assert matched or len(texts) > 100  # the fixture lines were read


def test_prefilter_translates_the_rules_patterns_and_refuses_the_rest() -> None:
    import re

    from checks import prefilter

    patterns = _rule_patterns()
    assert sum(p._pre is not None for p in patterns) >= len(patterns) - 3  # only flagged patterns lack one
    for refused in (r"(a)\1", r"(?i:x)y"):
        assert prefilter.superset(re.compile(refused)) is None
    assert prefilter.superset(re.compile("skm", re.I)) is None
    pre = prefilter.superset(re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?<!x)\b"))
    assert pre is not None and prefilter.can_match(pre, "tulis ke jöhn@exämple.id")
    assert not prefilter.can_match(pre, "tidak ada alamat surel di sini " * 3)
    digits = prefilter.superset(re.compile(r"[^\d\s]\d{2}$"))
    assert digits is not None and prefilter.can_match(digits, "nilai٣٤")
