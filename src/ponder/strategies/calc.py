"""A programmatic process verifier for arithmetic: find every equation a text states and
recompute it exactly.

``3 × 4 = 12``, ``12 + 5 is 17``, ``$1,200 divided by 4 equals $300`` and
``\\(7 \\times 8 = 56\\)`` are all read as equations; each side is evaluated with exact
fractions (no ``eval``). A chain ``a = b = c`` is checked link by link, and the
running-total shorthand ``5 + 3 = 8 - 2 = 6`` is accepted when the link's right side
starts with the value just computed. A right side written with decimals is accepted
when it is the exact value rounded to the digits shown. Only equations with an
operator on one side count, so "Step 3 = 4 apples" or a date is never a claim.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from ponder.expressions import (
    NUMBER_WORDS,
    OPS,
    head_expression,
    parse,
    parse_tokens,
    tail_expression,
    tokens,
)

__all__ = ["Equation", "check_text", "equations", "number_counts", "numbers"]

_WORDS = (
    (re.compile(r"\\times|\\cdot|[×⋅·∗✕]"), "*"),
    (re.compile(r"\\div|÷|∕"), "/"),
    (re.compile(r"[−–]"), "-"),
    (re.compile(r"\\[()\[\]]|\\left|\\right|\*\*"), " "),
    (re.compile(r"(?i)\bmultiplied\s+by\b|\btimes\b"), "*"),
    (re.compile(r"(?i)\bdivided\s+by\b|\bover\b"), "/"),
    (re.compile(r"(?i)\bplus\b"), "+"),
    (re.compile(r"(?i)\bminus\b"), "-"),
    (re.compile(r"(?<=\d)\s*[xX]\s*(?=[$€£₩¥]?\s*\(?\d)"), " * "),
)
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(NUMBER_WORDS[:13])}
_NUMBER_WORD = re.compile(rf"(?i)\b({'|'.join(_NUMBER_WORDS)})\b")
_IS = re.compile(
    r"(?i)(?<=[\d)])\s+(?:is\s+equal\s+to|equals|is|gives|makes|gives\s+us)\s+(?=[$€£₩¥(-]?\s*\d)"
)
_THOUSANDS = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+)(?![\d,]*\d)")
_CURRENCY = re.compile(r"[$€£₩¥]\s*(?=[\d(])")
_EXPR = r"[\d.()+\-*/ \t]*"
_CHAIN = re.compile(rf"{_EXPR}(?:=(?!=){_EXPR})+")


@dataclass(frozen=True)
class Equation:
    """One checked link ``left = right`` (as written after normalising) and its truth."""

    left: str
    right: str
    holds: bool
    value: Fraction  # the right side's value (what the step claims to have computed)

    @property
    def operands(self) -> list[Fraction]:
        """The numbers the left side works from."""
        return [Fraction(t) for t in self.left.split() if t[0].isdigit() or t[0] == "."]


def normalise(text: str) -> str:
    """Operators as symbols, ``=`` for "is"/"equals", no currency signs or thousands commas."""
    text = _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)
    for pattern, symbol in _WORDS:
        text = pattern.sub(symbol, text)
    text = _THOUSANDS.sub(lambda m: m.group(1).replace(",", ""), text)
    text = _CURRENCY.sub("", text)
    return _IS.sub(" = ", text)


def equations(text: str) -> list[Equation]:
    """Every equation the text states, each link checked exactly."""
    found: list[Equation] = []
    for match in _CHAIN.finditer(normalise(text)):
        parts = match.group().split("=")
        found += _links(parts)
    return found


def numbers(text: str) -> set[Fraction]:
    """Every number the text mentions (digits or small number words)."""
    return set(number_counts(text))


def number_counts(text: str) -> Counter[Fraction]:
    """Every number the text mentions, with how many times it does."""
    found = re.findall(r"\d+(?:\.\d+)?|\.\d+", normalise(text))
    return Counter(Fraction(n) for n in found)


def check_text(text: str) -> bool | None:
    """False when any stated equation is false, True when all hold, None when none found."""
    found = equations(text)
    if not found:
        return None
    return all(e.holds for e in found)


def _links(parts: list[str]) -> list[Equation]:
    out: list[Equation] = []
    left = tail_expression(parts[0])
    for part in parts[1:]:
        whole = parse(part)
        right = whole or head_expression(part)
        if left is not None and right is not None and (left[2] or right[2]):
            (ltext, lvalue, _), (rtext, rvalue, _) = left, right
            holds = _same(lvalue, rvalue, rtext) or _running(lvalue, rtext)
            out.append(Equation(ltext, rtext, holds, rvalue))
        left = whole or tail_expression(part)
    return out


def _same(value: Fraction, written: Fraction, text: str) -> bool:
    """Equal, or ``written`` is ``value`` rounded to the decimals shown."""
    if value == written:
        return True
    digits = re.findall(r"\.(\d+)", text)
    if len(digits) != 1 or any(op in text.strip().lstrip("-") for op in OPS):
        return False
    return abs(value - written) <= Fraction(1, 2 * 10 ** len(digits[0]))


def _running(value: Fraction, right: str) -> bool:
    """``... = 8 - 2``: the right side starts with the value just computed."""
    head = tokens(right)[:1]
    got = parse_tokens(head) if head else None
    return got is not None and got[1] == value and len(tokens(right)) > 1
