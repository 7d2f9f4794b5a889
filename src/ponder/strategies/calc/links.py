"""Equations a text states, and whether each holds (see ``ponder.strategies.calc``)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction

from ponder.strategies.calc.parse import Side, parse
from ponder.strategies.calc.tokens import (
    CONN,
    EQ,
    LP,
    MATH,
    NUM,
    OP,
    REL,
    RP,
    VAR,
    WORD,
    Steps,
    Tok,
    digit_values,
)
from ponder.strategies.calc.words import NUMBER_VALUES, tokenize, unit

_PARTS = frozenset((
    "twice", "double", "triple", "thrice", "half", "halves", "third", "thirds", "quarter",
    "quarters", "fourth", "fourths", "fifth", "fifths", "tenth", "tenths", "percent",
    "fraction", "times", "remainder", "remainders", "multiple", "multiples", "factor",
    "factors", "divisor",
))  # fmt: skip
"""Words that take a part or a multiple of the computation after them ("half of 8 + 4")."""
_UNSURE_BEFORE = _PARTS | frozenset((
    "by", "to", "from", "than", "plus", "minus", "over", "squared", "cubed", "sqrt", "root",
    "per", "another", "mod", "modulo",
))  # fmt: skip
"""Words that, just before a computation, make it part of something larger."""


@dataclass(frozen=True)
class Equation:
    """One checked link ``left = right`` (as written after normalising) and its truth."""

    left: str
    right: str
    holds: bool
    value: Fraction  # the right side's value (what the step claims to have computed)
    operands: tuple[Fraction, ...] = field(default=())  # the numbers the left side works from


def equations(text: str, steps: Steps | None = None) -> list[Equation]:
    """Every equation the text states, each link checked exactly."""
    steps = steps if steps is not None else Steps()
    return list(_links(tokenize(text, steps), steps))


def check_text(text: str) -> bool | None:
    """False when any stated equation is false, True when all hold, None when none found."""
    found = equations(text)
    if not found:
        return None
    return all(e.holds for e in found)


def numbers(text: str) -> set[Fraction]:
    """Every number the text mentions (digits or number words)."""
    return set(number_counts(text))


_NUMBERISH = re.compile(r"(\d+(?:[.,]\d+)*)|([^\W\d_]+)")


def number_counts(text: str, steps: Steps | None = None) -> Counter[Fraction]:
    """Every number the text mentions, with how many times it does: one linear scan that
    keeps no tokens (a question of megabytes costs its length, not its tokens' memory)."""
    written: Counter[str] = Counter()
    runs = 0
    for match in _NUMBERISH.finditer(text):
        runs += 1
        digits, word = match.groups()
        if digits is not None:
            written.update(v for v in digit_values(digits) if v)
        elif word.lower() in NUMBER_VALUES:
            written[str(NUMBER_VALUES[word.lower()])] += 1
    if steps is not None:
        steps.count += runs
    out: Counter[Fraction] = Counter()
    for number, count in written.items():
        out[Fraction(number)] += count
    return out


def _links(toks: list[Tok], steps: Steps) -> Iterator[Equation]:
    relations = [i for i, t in enumerate(toks) if t.kind in (EQ, REL, CONN)]
    previous = -1
    for k, at in enumerate(relations):
        following = relations[k + 1] if k + 1 < len(relations) else len(toks)
        kind = toks[at].kind
        if kind != REL:
            found = _link(toks, previous + 1, at, following, kind == CONN, steps)
            if found is not None:
                yield found
        previous = at


def _link(
    toks: list[Tok], lo: int, at: int, hi: int, verbal: bool, steps: Steps
) -> Equation | None:
    comma = verbal and at > lo and toks[at - 1].text == ","  # "12 + 5, which is 17"
    lefts = _lefts(toks, lo, at - comma, steps)
    right = _right(toks, at + 1, hi, steps)
    if verbal and right is not None and lefts and _proper_fraction(toks, lefts[0]):
        return None  # "3/4 is $15": a part of something, not a quotient
    if right is None:
        return None
    lefts = [s for s in lefts if _one_unit(s.units | right.units)]  # not "1 km + 500 m"
    bare = lefts and not lefts[0].has_op
    if not lefts or (bare and (lefts[0].units or _after_prose(toks, lefts[0].start))):
        return None  # "Total notebooks 1 = 5 x 7", "6 minutes = 6 / 60 hours": not a sum
    if verbal and not (lefts[0].has_op and toks[right.start].kind in (NUM, LP, OP)):
        return None  # "Adding 5 gives 12": prose, not a claim
    if not (right.has_op or any(side.has_op for side in lefts)):
        return None  # "Step 3 = 4 apples", a date: no computation is claimed
    chosen = next((s for s in lefts if _holds(toks, s, right)), None)
    side = chosen or lefts[0]
    operands = tuple(t.value for t in toks[side.start : side.end] if t.value is not None)
    return Equation(
        _text(toks, side.start, side.end),
        _text(toks, right.start, right.end),
        chosen is not None,
        right.values[0],
        operands,
    )


def _lefts(toks: list[Tok], lo: int, at: int, steps: Steps) -> list[Side]:
    """The readings of the computation that ends just before the relation at ``at``: the
    run of arithmetic tokens there, and, where prose may end in a number ("In 2023 5 + 3"
    or "Step 2 (3 + 4)"), the run after that number. Empty when the run touches a symbol
    or a word that belongs to it (``S + 30``, ``cost * 3``, "half of 8 + 4")."""
    start = at
    while start > lo:
        if toks[start - 1].kind in MATH:
            start -= 1
        elif start - 1 > lo and toks[start - 2].kind == NUM and unit(toks[start - 1]):
            start -= 1  # 250 m
        else:
            break
    steps.count += 2 * (at - start)  # the walk back, and the count of brackets below
    while start < at and toks[start].kind == RP:
        start += 1  # the end of a parenthesis that prose opened
    opened = sum(t.kind == LP for t in toks[start:at]) - sum(t.kind == RP for t in toks[start:at])
    while opened > 0 and start < at and toks[start].kind == LP:
        start, opened = start + 1, opened - 1
    if start == at or _joined_before(toks, start, lo):
        return []
    starts = [start]
    for i in range(at - 2, start - 1, -1):
        after = toks[i + 1]
        if toks[i].kind == NUM and after.kind in (NUM, LP) and not after.glued:
            starts.append(i + 1)
            break
    sides = []
    for begin in starts:
        side = parse(toks, begin, at, steps)
        if side is not None and side.end == at:
            sides.append(side)
    return sides


def _one_unit(units: frozenset[str]) -> bool:
    """At most one unit: a sum of metres and kilometres, or dollars and cents, may be
    right without being numerically equal. Money goes with any noun ("$15 profit")."""
    rest = units - {"$", "dollar"}
    if len(rest) < len(units) and rest & {"cent", "penny", "pennie", "dime", "nickel"}:
        return False
    return len(rest) <= 1


def _after_prose(toks: list[Tok], start: int) -> bool:
    return start > 0 and toks[start - 1].kind in (WORD, VAR, CONN, NUM)


def _joined_before(toks: list[Tok], start: int, lo: int) -> bool:
    """True when what comes just before ``toks[start]`` is part of the computation."""
    if start == 0 or (start == lo and toks[start - 1].kind in (EQ, REL)):
        return False  # the text's start, or a chain's link
    before, first = toks[start - 1], toks[start]
    if before.kind == VAR:
        return True
    if before.kind in (WORD, CONN) and (first.kind == OP or first.glued):
        return True
    if before.kind == WORD and before.text.lower() in _UNSURE_BEFORE:
        return True
    return before.text.lower() == "of" and _part_of(toks, start - 1)


def _part_of(toks: list[Tok], of: int) -> bool:
    """ "half of 8 + 4", "2 laps of 250 + 100", "3 of 5 + 2": ``of`` takes a part or a
    multiple of what follows, so the computation is not all that is said ("the sum of
    3 + 4", "a total of 14 * 250" are)."""
    before = toks[of - 1] if of > 0 else None
    if before is None or before.kind == NUM or before.text.lower() in _PARTS:
        return before is not None
    return before.kind == WORD and of > 1 and toks[of - 2].kind == NUM


def _right(toks: list[Tok], lo: int, hi: int, steps: Steps) -> Side | None:
    """The value stated just after a relation: the longest expression there, or None when
    what follows carries it on (``= 2S + 30``, ``= 60km``, ``= 5 dozen``)."""
    if lo >= hi or (toks[lo].kind not in (NUM, LP) and toks[lo].text != "-"):
        return None
    side = parse(toks, lo, hi, steps, of=False)
    if side is None or side.end == lo:
        return None
    if side.end < len(toks):
        after = toks[side.end]
        if after.kind in (OP, VAR) or (after.kind == LP and after.glued):
            return None
        if after.kind == NUM or (after.glued and after.kind == WORD):
            return None  # "= 7 8", "= 60km"
        if after.text.lower() == "and" and _fraction_follows(toks, side.end):
            return None
        trailing = unit(after)
        if trailing is not None:
            return Side(side.start, side.end, side.values, side.has_op, side.units | {trailing})
    return side


def _fraction_follows(toks: list[Tok], at: int) -> bool:
    """ "3 and a half", "3 and 1/2": the value goes on past ``and``."""
    ahead = [t.text.lower() for t in toks[at + 1 : at + 4]]
    return any(w in ("half", "quarter", "third", "/") for w in ahead)


def _holds(toks: list[Tok], left: Side, right: Side) -> bool:
    for lv in left.values:
        for rv in right.values:
            if lv == rv or _rounded(toks, left, lv, right, rv) or _whole(toks, left, lv, right, rv):
                return True
    return _running(toks, left, right)


def _whole(toks: list[Tok], left: Side, lv: Fraction, right: Side, rv: Fraction) -> bool:
    """ "7 / 2 = 3 full bags", "17 / 5 = 3 R 2": a quotient's whole part (or the next whole
    number), when words after it say what it counts."""
    after = toks[right.end] if right.end < len(toks) else None
    if after is None or after.kind not in (WORD, VAR) or right.end - right.start != 1:
        return False
    divides = any(t.kind == OP and t.text == "/" for t in toks[left.start : left.end])
    return divides and lv.denominator != 1 and rv.denominator == 1 and abs(rv - lv) < 1


def _rounded(toks: list[Tok], left: Side, lv: Fraction, right: Side, rv: Fraction) -> bool:
    """``7 / 3 = 2.33``: the right side is the value rounded to the digits it shows; or the
    left works from a rounded decimal (``3.33 * 3 = 10``) and misses by under 1%."""
    shown = toks[right.start : right.end]
    digits = _decimals(shown[0]) if len(shown) == 1 else 0
    if digits and abs(lv - rv) <= Fraction(1, 2 * 10**digits):
        return True
    rounded = any(_decimals(t) >= 2 for t in toks[left.start : left.end])
    return rounded and abs(lv - rv) <= abs(rv) / 100


def _proper_fraction(toks: list[Tok], side: Side) -> bool:
    written = [t for t in toks[side.start : side.end] if t.kind != WORD]  # "3/4 full"
    if len(written) != 3 or written[1].text != "/" or written[0].kind != NUM:
        return False
    top, bottom = written[0].value, written[2].value
    return top is not None and bottom is not None and 0 < top < bottom


def _decimals(tok: Tok) -> int:
    """How many decimals a number shows (``2.50`` and ``33.333%``: 2 and 3)."""
    if tok.kind != NUM or "." not in tok.text:
        return 0
    shown = tok.text.split(".")[1]
    return len(shown) - len(shown.lstrip("0123456789"))


def _running(toks: list[Tok], left: Side, right: Side) -> bool:
    """``5 + 3 = 8 - 2``: the right side starts with the value just computed."""
    first = toks[right.start]
    return right.has_op and first.kind == NUM and not first.pct and first.value in left.values


def _text(toks: list[Tok], lo: int, hi: int) -> str:
    return " ".join(t.text for t in toks[lo:hi])
