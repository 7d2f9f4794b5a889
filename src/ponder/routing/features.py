"""Cheap features of a question's text that hint at how hard it is, and of a probe.

No model is needed for the text features: length, how many numbers and how large,
words that signal an operation (more, lose, times, half, minus), list length, and
keywords of ordering and counting. A router may also route after one greedy sample on
a tier (a probe: tier 0's step-by-step answer, or a larger tier's program) and read what
it showed (``probe_features``): its mean token log-probability, whether it was cut off
at max_tokens, whether it gave an answer, its length, and whether the answer is a whole
number. The names are stored in a router file and checked when it is loaded.

A router's plan models read these features as they are (``linear`` terms) or with every
pairwise product of the standardised features added (``quadratic`` terms): "hard only
when the list is long and the numbers are large", or "right on middle-sized lists but
not on short or long ones", which no weighted sum of single features can say.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ponder.types import Sample

_NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?")
_SENTENCE = re.compile(r"[.!?](?:\s|$)")
_KEYWORDS = {
    "add": ("more", "gives them", "get", "gets", "plus", "add", "+", "total", "sum"),
    "sub": ("lose", "give away", "gives away", "minus", "less", "left", "-", "spend", "difference"),
    "mul": ("times", "twice", "multiplied", "each", "per", "double", "triple", "*", "x "),
    "div": ("half", "divided", "split", "share", "equally", "/", "average"),
    "order": ("largest", "smallest", "larger", "smaller", "second", "biggest", "most", "least"),
    "count": ("how many times", "appear", "count", "occur", "letter"),
}

FEATURES: tuple[str, ...] = (
    "log_chars",
    "sentences",
    "numbers",
    "log_max_number",
    "digits",
    "list_items",
    *(f"kw_{name}" for name in _KEYWORDS),
    "steps",
)


def _hits(text: str, words: tuple[str, ...]) -> int:
    return sum(text.count(w) for w in words)


def features(question: str) -> list[float]:
    """The feature vector of a question, in the order of ``FEATURES``."""
    text = question.lower()
    numbers = [float(n.replace(",", "")) for n in _NUMBER.findall(text)]
    keyword_hits = {name: _hits(text, words) for name, words in _KEYWORDS.items()}
    steps = keyword_hits["add"] + keyword_hits["sub"] + keyword_hits["mul"] + keyword_hits["div"]
    values = [
        math.log1p(len(text)),
        float(len(_SENTENCE.findall(text)) or 1),
        float(len(numbers)),
        math.log1p(max((abs(n) for n in numbers), default=0.0)),
        float(sum(c.isdigit() for c in text)),
        float(text.count(",") + 1 if text.count(",") >= 2 else 0),
        *(float(keyword_hits[name]) for name in _KEYWORDS),
        float(steps),
    ]
    return values


PROBE_FEATURES: tuple[str, ...] = (
    "probe_logprob",
    "probe_truncated",
    "probe_answered",
    "probe_log_tokens",
    "probe_whole",
)


def probe_features(probe: Sample) -> list[float]:
    """What a greedy first draw showed, in the order of ``PROBE_FEATURES``."""
    mean = probe.mean_logprob
    return [
        float(mean) if mean is not None else 0.0,
        float(probe.truncated),
        float(probe.answer is not None),
        math.log1p(probe.completion_tokens),
        float(whole_number(probe.answer)),
    ]


def whole_number(answer: str | None) -> bool:
    """True when ``answer`` reads as a number that is whole and not negative (``36``,
    ``1,200``, ``7.0``): what a count or an amount in a word problem usually is. A
    program that computes 12.5 people is usually wrong, so a probe router reads it."""
    if answer is None:
        return False
    try:
        value = float(answer.replace(",", "").strip())
    except ValueError:
        return False
    return math.isfinite(value) and value >= 0 and value == int(value)


TERMS: tuple[str, ...] = ("linear", "quadratic")
"""How a router's plan models read the standardised features: as they are, or with
every pairwise product (squares included) added."""


def term_names(names: Sequence[str], terms: str) -> tuple[str, ...]:
    """The names of the model inputs ``expand`` builds from features ``names``."""
    if terms == "linear":
        return tuple(names)
    pairs = [f"{a}*{b}" for i, a in enumerate(names) for b in names[i:]]
    return (*names, *pairs)


def expand(z: Sequence[float], terms: str) -> list[float]:
    """The model inputs from standardised features ``z``: ``z`` itself (``linear``), or
    ``z`` followed by z_i * z_j for every i <= j (``quadratic``), in ``term_names``'s
    order."""
    values = [float(v) for v in z]
    if terms == "linear":
        return values
    if terms != "quadratic":
        raise ValueError(f"terms must be one of {', '.join(TERMS)}, not {terms!r}")
    return values + [a * b for i, a in enumerate(values) for b in values[i:]]
