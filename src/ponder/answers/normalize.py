"""Canonical answers and grading: ``normalize`` gives equal answers equal vote keys,
``answers_match`` grades a prediction against a gold answer."""

from __future__ import annotations

import re

from ponder import expressions
from ponder.answers.numbers import (
    LEAD_LETTER_RE,
    LONE_CHOICE_RE,
    REL_TOL,
    format_value,
    parse_value,
    require_kind,
    require_str,
)

_PUNCT_RE = re.compile(r"(?<=[0-9])[.,/:](?=[0-9])|([^\w\s]|_)")

_ARTICLES_RE = re.compile(r"\b(?:a|an|the)\b")


def norm_text(text: str) -> str:
    """Lower case, without punctuation (but inside numbers) and articles, spaces collapsed."""
    text = _PUNCT_RE.sub(lambda m: "" if m.group(1) else m.group(0), text.lower())
    return " ".join(_ARTICLES_RE.sub(" ", text).split())


def norm_choice(text: str) -> str:
    """A choice letter, upper case, when ``text`` leads with one; else ``norm_text``."""
    m = LEAD_LETTER_RE.match(text)
    if m:
        return m[1].upper()
    norm = norm_text(text)
    return norm.upper() if len(norm) == 1 and norm.isascii() and norm.isalpha() else norm


def detect_kind(gold: str) -> str:
    """'number' if ``gold`` parses as one number, 'choice' for a lone letter, else 'text'."""
    if parse_value(require_str(gold, "gold")) is not None:
        return "number"
    return "choice" if LONE_CHOICE_RE.fullmatch(gold) else "text"


def normalize(answer: str, kind: str = "auto") -> str:
    """Canonical form used as the vote key.

    Numbers become canonical decimals ('18.00' -> '18', '3/4' -> '0.75'), choice letters
    upper case ('(b)' -> 'B'), text lower case without punctuation, articles or extra spaces.
    A value that is not of the requested kind falls back to text normalisation.
    """
    kind = require_kind(kind)
    require_str(answer, "answer")
    if kind == "expr":  # an arithmetic expression (countdown): canonical, spaces dropped
        return expressions.canonical(answer) or norm_text(answer)
    if kind == "text":
        return norm_text(answer)
    if kind == "choice":
        return norm_choice(answer)
    for candidate in (answer, norm_text(answer)):  # "(18)" is a number once cleaned
        value = parse_value(candidate)
        if value is not None:
            return format_value(value)
        if kind == "auto" and LONE_CHOICE_RE.fullmatch(candidate):
            return norm_choice(candidate)
    return norm_text(answer)


def answers_match(predicted: str | None, gold: str, kind: str = "auto") -> bool:
    """Grade ``predicted`` against ``gold``.

    Two numbers match within a relative 1e-6 (two integers only when equal), or when they
    normalise alike (``0.333333`` and ``1/3``); anything else matches on ``normalize`` forms.
    Kind "expr" with a countdown gold (``"4 7 8 8 -> 24"``) is graded by the puzzle's
    exact checker (``ponder.expressions.solves``).
    """
    require_str(gold, "gold")
    kind = require_kind(kind)
    if predicted is None:
        return False
    require_str(predicted, "predicted")
    if kind == "expr" and expressions.puzzle(gold) is not None:
        return expressions.solves(predicted, gold)
    if kind in ("auto", "number"):
        a, b = parse_value(predicted), parse_value(gold)
        if a is not None and b is not None:
            if a.denominator == b.denominator == 1:  # counts: 1000001 is not 1000000
                return a == b
            close = abs(a - b) <= REL_TOL * max(abs(a), abs(b))
            return close or format_value(a) == format_value(b)
    mine = normalize(predicted, kind)
    return bool(mine) and mine == normalize(gold, kind)
