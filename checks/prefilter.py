"""A fast first test for the rules' regexes: an RE2 pattern that matches wherever the regex can.

Python's `re` tries every alternative of a rule's pattern at every position of a line, which on a
paragraph of ~500 characters costs 5-19 us per pattern; RE2 (google-re2, a linear-time automaton)
answers "no match anywhere" in ~2 us. Most lines match none of a rule's patterns, so `superset`
translates a pattern into RE2 syntax that matches a *superset* of its matches: lookarounds, word
boundaries and anchors are dropped (each only restricts), `\\d`/`\\w`/`\\s` widened to every
non-ASCII character (RE2's are ASCII-only), lazy repeats made greedy. When RE2 finds nothing, the
regex cannot match; when it does, the regex itself decides. So the prefilter changes no answer,
only how fast "no" comes. Patterns it cannot translate faithfully (flags, back-references, other
constructs) get no prefilter.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

try:  # an optional speed-up: without the wheel every pattern is tested by `re` alone
    import re2 as _re2
except ImportError:  # pragma: no cover - google-re2 is a dependency
    _re2 = None

# the regex parser of the standard library (re._parser since 3.11, sre_parse before)
_c: Any = importlib.import_module("re._constants")
_p: Any = importlib.import_module("re._parser")

MIN_CHARS = 64  # shorter texts: one RE2 call costs about what the regex costs


class Untranslatable(Exception):
    """The pattern uses something `superset` does not translate."""


_TOP = 0x10FFFF
# (widened, narrowed) character sets of each category: a positive class takes the wide form, a negated
# class the narrow one, so that both match at least what Python's Unicode categories match
_CATEGORY = {
    _c.CATEGORY_DIGIT: ([(0x30, 0x39), (0x80, _TOP)], [(0x30, 0x39)]),
    _c.CATEGORY_WORD: ([(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A), (0x80, _TOP)],
                       [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]),
    _c.CATEGORY_SPACE: ([(0x09, 0x0D), (0x1C, 0x20), (0x80, _TOP)], [(0x09, 0x0D), (0x1C, 0x20)]),
    _c.CATEGORY_NOT_DIGIT: ([(0x00, 0x2F), (0x3A, _TOP)], [(0x00, 0x2F), (0x3A, 0x7F)]),
    _c.CATEGORY_NOT_WORD: ([(0x00, 0x2F), (0x3A, 0x40), (0x5B, 0x5E), (0x60, 0x60), (0x7B, _TOP)],
                           [(0x00, 0x2F), (0x3A, 0x40), (0x5B, 0x5E), (0x60, 0x60), (0x7B, 0x7F)]),
    _c.CATEGORY_NOT_SPACE: ([(0x00, 0x08), (0x0E, 0x1B), (0x21, _TOP)], [(0x00, 0x08), (0x0E, 0x1B), (0x21, 0x7F)]),
}


def _char(code: int) -> str:
    return chr(code) if chr(code).isalnum() and code < 0x80 else f"\\x{{{code:x}}}"


def _ranges(ranges: list[tuple[int, int]]) -> str:
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in ranges)


def _class(items: list[tuple[Any, Any]]) -> str:
    negate = bool(items) and items[0][0] is _c.NEGATE
    if negate:
        items = items[1:]
    parts: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            parts.append(_char(av))
        elif op is _c.RANGE:
            parts.append(_ranges([av]))
        elif op is _c.CATEGORY and av in _CATEGORY:
            parts.append(_ranges(_CATEGORY[av][1 if negate else 0]))
        else:
            raise Untranslatable(str(op))
    return f"[{'^' if negate else ''}{''.join(parts)}]"


def _translate(sub: Any) -> str:
    out: list[str] = []
    for op, av in sub:
        if op is _c.LITERAL:
            out.append(_char(av))
        elif op is _c.NOT_LITERAL:
            out.append(f"[^{_char(av)}]")
        elif op is _c.ANY:
            out.append("(?s:.)")
        elif op is _c.IN:
            out.append(_class(av))
        elif op is _c.AT or op in (_c.ASSERT, _c.ASSERT_NOT):
            continue  # anchors, boundaries, lookarounds: dropping one only admits more
        elif op is _c.BRANCH:
            out.append("(?:" + "|".join(_translate(b) for b in av[1]) + ")")
        elif op is _c.SUBPATTERN:
            _group, add_flags, del_flags, inner = av
            if add_flags or del_flags:
                raise Untranslatable("inline flags")
            out.append("(?:" + _translate(inner) + ")")
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT):
            low, high, inner = av
            if low > 1000:
                raise Untranslatable("repeat")
            bound = f"{{{low},}}" if high is _c.MAXREPEAT or high > 1000 else f"{{{low},{high}}}"
            out.append("(?:" + _translate(inner) + ")" + bound)
        else:
            raise Untranslatable(str(op))
    return "".join(out)


def superset(regex: re.Pattern[str]) -> Any | None:
    """A compiled RE2 pattern matching wherever `regex` can match, or None (see the module)."""
    if _re2 is None or regex.flags & ~re.UNICODE:
        return None
    try:
        translated = _translate(_p.parse(regex.pattern, regex.flags))
        return _re2.compile(translated)
    except Exception:  # untranslatable, or refused by RE2: the regex alone decides
        return None


# google-re2's `search` builds a match object and maps byte offsets back to characters, half the cost
# of a call; a yes/no needs neither, so when the wheel has its usual inside the automaton is asked directly
_UNANCHORED = getattr(getattr(_re2, "_Anchor", None), "UNANCHORED", None)


def can_match(pre: Any, text: str) -> bool:
    """False only when `pre` (from `superset`) proves the regex matches nowhere in `text`."""
    try:
        if _UNANCHORED is not None:
            data = text.encode("utf-8")
            return bool(pre._regexp.Match(_UNANCHORED, data, 0, len(data))[0][0] != -1)
        return pre.search(text) is not None
    except Exception:  # text RE2 cannot take (lone surrogates), another wheel: let the regex decide
        return True
