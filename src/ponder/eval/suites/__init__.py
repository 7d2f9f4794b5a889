"""Built-in suites, generated deterministically from a seed, with difficulty levels.

    arith     arithmetic word problems, 1..6 (a bare sum up to seven chained steps)
    compare   comparing and ordering numbers, 1..4
    count     counting items and occurrences in lists, 1..4
    countdown reach a target from 3 or 4 numbers with + - * / (Game of 24), 1..4
    word      multi-sentence word problems (money, units, rates, distractors), 1..4

Every answer is an integer, checked exactly, except countdown's: a final expression,
checked by the puzzle's exact checker (answer kind ``expr``). The same (suite, seed, level, index)
always gives the same question, so runs on different machines compare item by item.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.suites import arith, compare, count, countdown, word

Maker = Callable[[random.Random, int], tuple[str, str]]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    levels: dict[int, str]
    make: Maker
    kind: str = "number"

    def items(
        self, per_level: int, seed: int = 0, levels: Iterable[int] | None = None
    ) -> list[Item]:
        """``per_level`` items of each level (all levels unless given), in level order."""
        chosen = sorted(self.levels) if levels is None else sorted(set(levels))
        unknown = [lv for lv in chosen if lv not in self.levels]
        if unknown:
            known = ", ".join(map(str, self.levels))
            raise ConfigError(f"suite {self.name} has no level {unknown[0]}: use {known}")
        out = []
        for level in chosen:
            for index in range(per_level):
                rng = random.Random(f"{self.name}:{seed}:{level}:{index}")
                question, answer = self.make(rng, level)
                out.append(
                    Item(
                        id=f"{self.name}-s{seed}-l{level}-{index:03d}",
                        question=question,
                        answer=answer,
                        kind=self.kind,
                        difficulty=str(level),
                        suite=self.name,
                    )
                )
        return out


SUITES: dict[str, Suite] = {
    "arith": Suite("arith", "arithmetic word problems", arith.LEVELS, arith.make),
    "compare": Suite("compare", "comparing and ordering numbers", compare.LEVELS, compare.make),
    "count": Suite("count", "counting items and occurrences", count.LEVELS, count.make),
    "countdown": Suite(
        "countdown",
        "reach a target with + - * / (Game of 24)",
        countdown.LEVELS,
        countdown.make,
        kind="expr",
    ),
    "word": Suite("word", "multi-sentence word problems", word.LEVELS, word.make),
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise ConfigError(f"unknown suite {name!r}: use one of {', '.join(SUITES)}")
    return SUITES[name]


def suite_items(
    names: str, per_level: int = 20, seed: int = 0, levels: Iterable[int] | None = None
) -> list[Item]:
    """Items of one or more suites (``arith,count`` or ``all``); levels filter each suite."""
    if per_level < 1:
        raise ConfigError(f"items per level must be at least 1, got {per_level}")
    chosen = list(SUITES) if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    if not chosen:
        raise ConfigError("no suite named: use e.g. --suite arith or --suite all")
    suites = [get_suite(name) for name in chosen]
    levels = None if levels is None else list(levels)
    for level in levels or ():
        if not any(level in suite.levels for suite in suites):
            known = "; ".join(f"{s.name} {min(s.levels)}-{max(s.levels)}" for s in suites)
            raise ConfigError(f"no chosen suite has level {level}: levels are {known}")
    items: list[Item] = []
    for suite in suites:
        wanted = None if levels is None else [lv for lv in levels if lv in suite.levels]
        items += suite.items(per_level, seed, wanted)
    return items
