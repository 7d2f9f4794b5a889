"""A deterministic two-tier world for tests and demos: scripted models whose accuracy
falls with an item's difficulty, the small one faster than the large one.

    small, large = two_tier_backends(items)

Per level (``difficulty`` 1..4) the chance that a sample is right, greedy first:

    level        1      2      3      4
    small     1 / .8  0 / .6  0 / .1  0 / 0
    large     1 / .9  1 / .9  1 / .7  0 / .3

Wrong samples scatter over a few wrong answers, so votes help where the right
answer is the most frequent one. Everything is seeded by the question and draw index.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from ponder.backends.scripted import ScriptedBackend
from ponder.eval.datasets import Item
from ponder.types import SamplingParams

SMALL = {1: (1.0, 0.8), 2: (0.0, 0.6), 3: (0.0, 0.1), 4: (0.0, 0.0)}
LARGE = {1: (1.0, 0.9), 2: (1.0, 0.9), 3: (1.0, 0.7), 4: (0.0, 0.3)}


def _script(
    items: Sequence[Item], table: dict[int, tuple[float, float]], name: str
) -> Callable[[str, SamplingParams, int], str]:
    golds = [(item.question, item.answer, int(item.difficulty or 1)) for item in items]

    def answer(question: str, params: SamplingParams, k: int) -> str:
        found = next(((g, lv) for q, g, lv in golds if question.startswith(q)), None)
        if found is None:
            return "I do not know."
        gold, level = found
        greedy_p, sample_p = table[min(max(level, 1), 4)]
        rng = random.Random(f"{name}:{question}:{k}:{params.temperature}")
        right = greedy_p >= 0.5 if params.temperature == 0 else rng.random() < sample_p
        value = int(gold) if right else int(gold) + rng.choice((-2, -1, 1, 3, 10))
        words = " ".join(["step"] * (10 * level if name == "small" else 12 * level))
        return f"{words} Answer: {value}"

    return answer


def two_tier_backends(items: Sequence[Item]) -> tuple[ScriptedBackend, ScriptedBackend]:
    """(small, large) scripted backends over ``items`` (numeric answers)."""
    small = ScriptedBackend(_script(items, SMALL, "small"), model="small", active_params=1.35e8)
    large = ScriptedBackend(_script(items, LARGE, "large"), model="large", active_params=4.94e8)
    return small, large


def synthetic_items(per_level: int = 6, levels: Sequence[int] = (1, 2, 3, 4)) -> list[Item]:
    """Simple arithmetic items, ``per_level`` per difficulty level."""
    items = []
    for level in levels:
        for i in range(per_level):
            a, b = 10 * level + i, 3 * i + level
            question = (
                f"Level {level} item {i}: " + " ".join(["then"] * level) + f" What is {a} + {b}?"
            )
            items.append(
                Item(f"syn-l{level}-{i}", question, str(a + b), "number", str(level), None, "syn")
            )
    return items
