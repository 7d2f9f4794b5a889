"""Countdown and the Game of 24: reach a target from given numbers with + - * /, each
number used exactly once. Every generated item is proved solvable by ``solve``, which
also counts its solutions, so levels separate targets with many solutions from ones
with few. The gold answer names the puzzle (``"4 7 8 8 -> 24"``) and an answer is
graded by the exact checker (``ponder.expressions.solves``, answer kind ``expr``).
"""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction

from ponder.expressions import puzzle_gold

LEVELS = {
    1: "3 numbers, a target with many solutions",
    2: "3 numbers, a target with one or two solutions",
    3: "4 numbers to 24 (the Game of 24), many solutions",
    4: "4 numbers to 24, one to three solutions",
}
MANY = {1: 4, 3: 12}  # at least this many distinct solutions
FEW = {2: 2, 4: 3}  # at most this many (and at least one)

Node = tuple[Fraction, str]


def reachable(numbers: list[int]) -> dict[Fraction, set[str]]:
    """Every value the numbers can make using each exactly once, with its expressions."""
    out: dict[Fraction, set[str]] = {}
    _combine([(Fraction(n), str(n)) for n in numbers], out)
    return out


def solve(numbers: list[int], target: int) -> list[str]:
    """Every distinct expression (as the search writes it) that reaches the target."""
    return sorted(reachable(numbers).get(Fraction(target), set()))


def _combine(nodes: list[Node], out: dict[Fraction, set[str]]) -> None:
    if len(nodes) == 1:
        value, text = nodes[0]
        out.setdefault(value, set()).add(_bare(text))
        return
    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            rest = [n for k, n in enumerate(nodes) if k not in (i, j)]
            for made in _pairs(nodes[i], nodes[j]):
                _combine([*rest, made], out)


def _pairs(a: Node, b: Node) -> list[Node]:
    (x, s), (y, t) = a, b
    made = [(x + y, f"({s} + {t})"), (x * y, f"({s} * {t})")]
    made += [(x - y, f"({s} - {t})"), (y - x, f"({t} - {s})")]
    if y != 0:
        made.append((x / y, f"({s} / {t})"))
    if x != 0:
        made.append((y / x, f"({t} / {s})"))
    return made


def _bare(text: str) -> str:
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def question(numbers: list[int], target: int) -> str:
    listed = ", ".join(map(str, numbers))
    return (
        f"Use the numbers {listed} and the operations +, -, *, / to make {target}. "
        "Use each number exactly once; parentheses are allowed. "
        "Give the final expression, for example 'Answer: (a + b) * c'."
    )


def make(rng: random.Random, level: int) -> tuple[str, str]:
    size = 3 if level in (1, 2) else 4
    for _ in range(10_000):
        numbers = sorted(rng.randint(1, 13 if size == 4 else 10) for _ in range(size))
        target = _target(rng, numbers, level)
        if target is not None:
            return question(numbers, target), puzzle_gold(numbers, target)
    raise RuntimeError(f"no countdown puzzle of level {level} found")  # pragma: no cover


def _target(rng: random.Random, numbers: list[int], level: int) -> int | None:
    """A target for the level, or None when these numbers have none."""
    counts = Counter(
        {v: len(e) for v, e in reachable(numbers).items() if v.denominator == 1 and v > 0}
    )
    if level in (3, 4):
        count = counts.get(Fraction(24), 0)
        wanted = count >= MANY[3] if level == 3 else 1 <= count <= FEW[4]
        return 24 if wanted else None
    lo = max(numbers) + 1  # a target no single number already is
    fits = [
        int(v)
        for v, c in sorted(counts.items())
        if lo <= v <= 60 and (c >= MANY[1] if level == 1 else c <= FEW[2])
    ]
    return rng.choice(fits) if fits else None
