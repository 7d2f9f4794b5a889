"""Scorers for best-of-N: each maps (question, sample) to a number, higher is better.

* ``LogprobScorer``: the sample's mean token log-probability (no extra calls);
* ``JudgeScorer``: an LLM judge, on the same backend or another tier, rates the answer
  0-10 (``ponder.strategies.checks``);
* ``CrossCheckScorer``: a step-by-step answer that the model's own program (or another
  tier's) agrees with scores higher (``ponder.strategies.checks``);
* ``CalcScorer``: recomputes every equation the sample states (``ponder.strategies.calc``);
  a step with a false one scores 0, a sample its worst step;
* ``CallableScorer``: any user verifier or reward function ``f(question, sample)``,
  sync or async, returning a number or a bool (a bool is a verifier: 1 or 0).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from fractions import Fraction
from math import inf
from typing import Any, Literal, Protocol, get_args, runtime_checkable

from ponder.answers import parse_number
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.strategies.base import Work
from ponder.strategies.calc import Equation, equations, number_counts
from ponder.strategies.checks import (
    JUDGE_PROMPT,
    STEP_JUDGE_PROMPT,
    CrossCheckScorer,
    JudgeScorer,
)
from ponder.strategies.reward import RewardScorer
from ponder.strategies.scored import PARTIAL, Scored
from ponder.strategies.tiers import Tier
from ponder.types import Sample

ScoreFn = Callable[[str, Sample], "float | bool | Awaitable[float | bool]"]


@runtime_checkable
class Scorer(Protocol):
    name: str

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        """``backend`` is the one that drew the samples (a judge may reuse it)."""
        ...

    def work(self, candidates: int) -> Work:
        """The most model calls scoring ``candidates`` samples may make (for admission)."""
        ...


class _Free:
    """Scorers that make no model call."""

    def work(self, candidates: int) -> Work:
        return Work(0, 0)


class LogprobScorer(_Free):
    name = "logprob"

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        return Scored([s.mean_logprob if s.mean_logprob is not None else -inf for s in samples])


class CalcScorer(_Free):
    """The arithmetic process verifier. A text stating a false equation scores 0. One
    whose equations all hold scores 1, less ``penalty`` for each of: an operand grounded
    neither in the question nor in an earlier result; a quantity of the question used
    again after it was used up (``reuses``); a final answer that is not what its last
    equation computed. A text with no equation scores ``unchecked``. Partial solutions
    (a search's path so far) are scored the same way."""

    name = "calc"

    def __init__(self, unchecked: float = 0.5, penalty: float = 0.3, reuse: bool = True) -> None:
        self.unchecked = unchecked
        self.penalty = penalty
        self.reuse = reuse

    def text_score(self, text: str, question: str = "", answer: str | None = None) -> float:
        return self.given_score(text, given(question) if question else None, answer)

    def given_score(
        self, text: str, known: Counter[Fraction] | None, answer: str | None = None
    ) -> float:
        """``text_score`` against the quantities a question gives (``given``), read once
        for all of its samples."""
        found = equations(text)
        if not found:
            return self.unchecked
        if not all(e.holds for e in found):
            return 0.0
        score = 1.0
        if known is not None and not grounded(found, known):
            score -= self.penalty
        if known is not None and self.reuse and reuses(found, known):
            score -= self.penalty
        if answer is not None and _not_computed(answer, found[-1].value):
            score -= self.penalty
        return score

    def scores(self, question: str, samples: list[Sample]) -> list[float]:
        """Every sample's score; the question is read once."""
        known = given(question) if question else None
        return [self.given_score(s.text, known, s.answer) for s in samples]

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        size = len(question) + sum(len(s.text) for s in samples)
        if size <= INLINE_CHARS or not _in_loop():
            return Scored(self.scores(question, samples))
        return Scored(await asyncio.to_thread(self.scores, question, samples))


def _not_computed(answer: str, value: Fraction) -> bool:
    """True when the final answer is a number other than what the last equation computed."""
    try:
        final = parse_number(answer)
    except OverflowError:  # hundreds of digits: past any float, and past any step checked
        return True
    return final is not None and final != value


def _in_loop() -> bool:
    """False when a coroutine is driven without an event loop (a replay on stored
    samples, ``ponder.eval.replay.run_now``): no loop to keep free, no thread to ask."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


INLINE_CHARS = 1_000
"""Text the calc scorer reads on the event loop (a few milliseconds at most); more goes
to a worker thread, so a long question or many samples never stall a server."""


def calc_of(question: str) -> Callable[[Sample], float]:
    """Each sample's ``CalcScorer`` score against ``question``: what a plan's ``calc``
    stage picks by (``ponder.cascade.run_plan``). The question is read once."""
    scorer = CalcScorer()
    known = given(question) if question else None
    return lambda sample: scorer.given_score(sample.text, known, sample.answer)


_IMPLIED_TWO = re.compile(r"(?i)\b(?:twice|half|double|doubles|halves)\b")


def given(question: str) -> Counter[Fraction]:
    """The quantities a question gives, with how often: its numbers, and a 2 for each
    ``twice``/``half``/``double``."""
    counts = number_counts(question)
    implied = len(_IMPLIED_TWO.findall(question))
    if implied:
        counts[Fraction(2)] += implied
    return counts


def grounded(found: list[Equation], counts: Counter[Fraction]) -> bool:
    """Every operand is a number of the question (``counts``, from ``given``: ``twice``/
    ``half`` give 2) or a result computed by an earlier equation."""
    computed: set[Fraction] = set()  # the question's quantities are looked up, not copied
    for equation in found:
        if not all(x in counts or x in computed for x in equation.operands):
            return False
        computed.add(equation.value)
    return True


def reuses(found: list[Equation], counts: Counter[Fraction]) -> bool:
    """True when a quantity the question gives is used up by an equation and then used
    again by a later one: a path that turns 8 into 4 and then multiplies 8 (not 4) has
    lost its place. An operand is taken first from the results computed so far, each
    usable once, then from the question's quantities as often as the question states
    them. An equation stated again (in the same or the other order) counts once, unless
    one of its operands was computed anew since (4 + 3 = 7, 7 - 3 = 4, 4 + 3 = 7 works
    it out twice; a recap of 3 x 4 = 12 after 12 + 5 = 17 restates it). A value used up
    within one equation is not held against it (``2 x 2`` may double a 2 the path worked
    out in words). ``counts`` are the question's quantities (``given``)."""
    taken: Counter[Fraction] = Counter()  # of the question's quantities (never copied)
    results: Counter[Fraction] = Counter()
    used: set[Fraction] = set()
    seen: set[tuple[tuple[Fraction, ...], Fraction]] = set()
    for equation in found:
        key = (tuple(sorted(equation.operands)), equation.value)
        if key in seen and not any(results[x] > 0 for x in equation.operands):
            continue  # a restatement: nothing it works from was computed anew
        seen.add(key)
        for x in equation.operands:
            if results[x] > 0:
                results[x] -= 1
            elif x in counts:
                if taken[x] >= counts[x] and x in used:
                    return True
                taken[x] = min(taken[x] + 1, counts[x])
        used.update(equation.operands)
        results[equation.value] += 1
    return False


class CallableScorer(_Free):
    """Wraps a user verifier or reward model."""

    name = "callable"

    def __init__(self, fn: ScoreFn) -> None:
        if not callable(fn):
            raise ConfigError("a verifier must be callable as f(question, sample)")
        self.fn = fn

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        scores = []
        for sample in samples:
            value: Any = self.fn(question, sample)
            if inspect.isawaitable(value):
                value = await value
            try:
                scores.append(float(value))
            except (TypeError, ValueError):
                raise ConfigError(
                    f"the verifier returned {value!r}; it must return a number or a bool"
                ) from None
        return Scored(scores)


ScorerName = Literal["logprob", "judge", "calc", "reward"]
"""The scorers of whole answers and of a search's partial paths alike."""
AnswerScorerName = Literal["logprob", "judge", "calc", "reward", "crosscheck"]
"""The scorers of whole answers (best-of-N): ``crosscheck`` needs a final answer."""
SCORERS: tuple[str, ...] = get_args(AnswerScorerName)
CHECKING = frozenset({"judge", "crosscheck"})
"""The scorers that ask a model, and so may ask another tier (``judge=``)."""


def make_scorer(
    name: str,
    reward_url: str | None = None,
    judge: Tier | None = None,
    checks: int | None = None,
    max_tokens: int | None = None,
) -> Scorer:
    """A scorer by name; ``reward`` needs the operator's ``reward_url``; ``judge`` (a
    tier, loaded on first use) is the model a ``judge`` or ``crosscheck`` asks instead of
    the solving one; ``checks`` and ``max_tokens`` are ``crosscheck``'s programs."""
    if judge is not None and name not in CHECKING:
        raise ConfigError(
            f"nothing here uses judge=: scorer={name} asks no model (use scorer=judge or "
            "scorer=crosscheck, or drop judge=)"
        )
    if checks is not None and name != "crosscheck":
        raise ConfigError(f"checks= is for scorer=crosscheck, not scorer={name}: drop it")
    if name == "reward":
        if not reward_url:
            raise ConfigError("scorer=reward needs reward_url=http://host/path (operator set)")
        return RewardScorer(reward_url)
    if name == "logprob":
        return LogprobScorer()
    if name == "judge":
        return JudgeScorer(judge)
    if name == "crosscheck":
        return CrossCheckScorer(judge, checks or 1, max_tokens)
    if name == "calc":
        return CalcScorer()
    raise ConfigError(
        f"unknown scorer {name!r}: use {', '.join(SCORERS)}, or pass a callable in Python"
    )


__all__ = [  # the judge's names live in ponder.strategies.checks; kept importable here
    "CHECKING",
    "INLINE_CHARS",
    "JUDGE_PROMPT",
    "PARTIAL",
    "SCORERS",
    "STEP_JUDGE_PROMPT",
    "AnswerScorerName",
    "CalcScorer",
    "CallableScorer",
    "CrossCheckScorer",
    "JudgeScorer",
    "LogprobScorer",
    "ScoreFn",
    "Scorer",
    "ScorerName",
    "calc_of",
    "given",
    "grounded",
    "make_scorer",
    "reuses",
]
