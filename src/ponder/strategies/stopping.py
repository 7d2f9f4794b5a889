"""When to stop drawing samples for self-consistency.

* ``FixedBudget``: never stop early (the baseline: draw the whole budget).
* ``WindowRule`` (ESC, Li et al. 2024, "Escape Sky-high Cost: Early-stopping
  Self-Consistency for Multi-step Reasoning", ICLR 2024): samples come in windows
  of ``window`` draws; stop as soon as every answer in the latest window agrees.
* ``BetaRule`` (Adaptive-Consistency, Aggarwal et al. 2023, "Let's Sample Step by
  Step", EMNLP 2023): with v1 votes for the leading answer and v2 for the runner-up,
  the leader's share among the two is Beta(v1+1, v2+1); stop once
  P(share > 1/2) >= ``threshold`` (0.95 in the paper).
* ``MarginRule``: stop once the leader is ahead of the runner-up by ``margin`` votes
  (what a human would do; useful as a simple, transparent alternative).

A rule sees every answer drawn so far (None when no answer could be extracted) and
says whether to stop; ``wave`` is how many samples to draw between checks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb
from typing import Protocol

from ponder.errors import ConfigError


class StoppingRule(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def wave(self) -> int: ...

    def should_stop(self, answers: Sequence[str | None]) -> bool: ...


def top_two(answers: Sequence[str | None]) -> tuple[int, int]:
    counts = Counter(a for a in answers if a is not None).most_common(2)
    first = counts[0][1] if counts else 0
    second = counts[1][1] if len(counts) > 1 else 0
    return first, second


@dataclass(frozen=True)
class FixedBudget:
    wave: int = 0  # 0: the whole budget in one wave
    name: str = "fixed"

    def should_stop(self, answers: Sequence[str | None]) -> bool:
        return False


@dataclass(frozen=True)
class WindowRule:
    wave: int = 4
    name: str = "esc"

    def should_stop(self, answers: Sequence[str | None]) -> bool:
        if len(answers) < self.wave:
            return False
        window = answers[-self.wave :]
        return window[0] is not None and all(a == window[0] for a in window)


def beta_prob_greater_half(v1: int, v2: int) -> float:
    """P(p > 1/2) for p ~ Beta(v1+1, v2+1), exact for integer counts."""
    a, b = v1 + 1, v2 + 1
    total = a + b - 1
    # P(p <= 1/2) = I_{1/2}(a, b) = P(Binomial(a+b-1, 1/2) >= a), so
    # P(p > 1/2) = P(Binomial(a+b-1, 1/2) <= a-1).
    return sum(comb(total, j) for j in range(a)) / 2**total


@dataclass(frozen=True)
class BetaRule:
    threshold: float = 0.95
    wave: int = 1
    min_samples: int = 2
    name: str = "beta"

    def should_stop(self, answers: Sequence[str | None]) -> bool:
        if len(answers) < self.min_samples:
            return False
        v1, v2 = top_two(answers)
        return v1 > 0 and beta_prob_greater_half(v1, v2) >= self.threshold


@dataclass(frozen=True)
class MarginRule:
    margin: int = 3
    wave: int = 1
    name: str = "margin"

    def should_stop(self, answers: Sequence[str | None]) -> bool:
        v1, v2 = top_two(answers)
        return v1 - v2 >= self.margin


RULES = ("fixed", "esc", "beta", "margin")


def make_rule(name: str, wave: int | None = None, threshold: float | None = None) -> StoppingRule:
    """A stopping rule by name, with its wave (and threshold for beta / margin for margin)."""
    if name in ("fixed", "none", ""):
        return FixedBudget(wave=wave or 0)
    if name == "esc":
        return WindowRule(wave=wave or 4)
    if name == "beta":
        return BetaRule(threshold=threshold or 0.95, wave=wave or 2)
    if name == "margin":
        return MarginRule(margin=int(threshold or 3), wave=wave or 1)
    raise ConfigError(f"unknown stopping rule {name!r}: use one of {', '.join(RULES)}")
