"""Exact arithmetic on written expressions: tokens, a parser over + - * / and
parentheses in fractions (never ``eval``), and the countdown puzzle's checker.

The calc verifier reads equations with it; the ``expr`` answer kind extracts and
grades a final expression with it (``solves``: each given number used exactly once,
the value equal to the target, exactly).
"""

from __future__ import annotations

import re
from collections import Counter
from fractions import Fraction

__all__ = ["canonical", "find_expression", "parse", "puzzle", "puzzle_gold", "solves"]

OPS = frozenset("+-*/")
_TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+|[-+*/()])")
_SYMBOLS = (
    (re.compile(r"\\times|\\cdot|[×⋅·∗✕xX]"), "*"),
    (re.compile(r"\\div|÷|∕"), "/"),
    (re.compile(r"[−–]"), "-"),
    (re.compile(r"\\[()\[\]]|\\left|\\right|[\[\]{}]"), " "),
)
_GOLD = re.compile(r"^\s*((?:\d+\s+)*\d+)\s*->\s*(-?\d+)\s*$")

NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
"""English number words, zero to twenty, at their value's index."""


def puzzle_gold(numbers: list[int], target: int) -> str:
    """The gold answer of a countdown item: ``"4 7 8 8 -> 24"``."""
    return f"{' '.join(map(str, numbers))} -> {target}"


def puzzle(gold: str) -> tuple[list[Fraction], Fraction] | None:
    """(numbers, target) from a gold answer written by ``puzzle_gold``."""
    match = _GOLD.match(gold)
    if match is None:
        return None
    return [Fraction(n) for n in match.group(1).split()], Fraction(match.group(2))


def solves(expression: str, gold: str) -> bool:
    """True when the expression uses each of the puzzle's numbers exactly once and equals
    its target exactly."""
    given = puzzle(gold)
    parsed = parse(_symbols(expression))
    if given is None or parsed is None:
        return False
    numbers, target = given
    used = [Fraction(t) for t in parsed[0].split() if t[0].isdigit() or t[0] == "."]
    return parsed[1] == target and Counter(used) == Counter(numbers)


def find_expression(text: str) -> str | None:
    """The expression a line states, canonical: the side of its ``=`` with most operators
    ("(8 - 4) * 6 = 24" -> "(8-4)*6"); None when no side has an operator."""
    best: Parsed | None = None
    for side in _symbols(text).split("="):
        for got in (tail_expression(side), head_expression(side)):
            if got is not None and got[2] and (best is None or _ops(got) > _ops(best)):
                best = got
    return best[0].replace(" ", "") if best is not None else None


def canonical(expression: str) -> str | None:
    parsed = parse(_symbols(expression))
    return parsed[0].replace(" ", "") if parsed is not None else None


def _ops(parsed: Parsed) -> int:
    return sum(t in OPS for t in parsed[0].split())


def _symbols(text: str) -> str:
    for pattern, symbol in _SYMBOLS:
        text = pattern.sub(symbol, text)
    return text


Parsed = tuple[str, Fraction, bool]  # text, exact value, has an operator


def tail_expression(text: str) -> Parsed | None:
    """The longest parseable expression that ends the text ("Step 2: 3 + 4" -> "3 + 4")."""
    found = tokens(text)
    for start in range(len(found)):
        got = parse_tokens(found[start:])
        if got is not None:
            return got
    return None


def head_expression(text: str) -> Parsed | None:
    """The longest parseable expression that starts the text ("12. Then" -> "12")."""
    found = tokens(text)
    for end in range(len(found), 0, -1):
        got = parse_tokens(found[:end])
        if got is not None:
            return got
    return None


def tokens(text: str) -> list[str]:
    """Numbers and operators; anything else (a list's "1." or a full stop) becomes "?",
    which no expression may contain."""
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            out.append("?")
            pos = pos + 1 + len(text[pos + 1 :]) - len(text[pos + 1 :].lstrip())
            continue
        out.append(match.group(1))
        pos = match.end()
    return out


def parse(text: str) -> Parsed | None:
    found = tokens(text)
    return parse_tokens(found) if found else None


def parse_tokens(found: list[str]) -> Parsed | None:
    """(text, exact value, has an operator) when the tokens are one whole expression."""
    if not found or "?" in found:
        return None
    parser = _Parser(found)
    try:
        value = parser.sum()
    except (ValueError, ZeroDivisionError, IndexError):
        return None
    if parser.pos != len(found):
        return None
    ops = any(t in OPS for t in found[1:]) or found[0] in "+*/"
    return " ".join(found), value, ops


class _Parser:
    """Recursive descent over + - * / and parentheses, in exact fractions."""

    def __init__(self, found: list[str]) -> None:
        self.tokens = found
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def sum(self) -> Fraction:
        value = self.product()
        while self._peek() in ("+", "-"):
            op = self.tokens[self.pos]
            self.pos += 1
            right = self.product()
            value = value + right if op == "+" else value - right
        return value

    def product(self) -> Fraction:
        value = self.unary()
        while self._peek() in ("*", "/"):
            op = self.tokens[self.pos]
            self.pos += 1
            right = self.unary()
            value = value * right if op == "*" else value / right
        return value

    def unary(self) -> Fraction:
        if self._peek() == "-":
            self.pos += 1
            return -self.unary()
        if self._peek() == "(":
            self.pos += 1
            value = self.sum()
            if self._peek() != ")":
                raise ValueError("unclosed parenthesis")
            self.pos += 1
            return value
        token = self.tokens[self.pos]
        if token in OPS or token == ")":
            raise ValueError(f"a number was expected, not {token}")
        self.pos += 1
        return Fraction(token)
