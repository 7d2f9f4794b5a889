"""Scorers that ask a model: an LLM judge, and a cross-check against programs.

* ``JudgeScorer``: a judge model rates each candidate, or a search's partial path, 0-10;
* ``CrossCheckScorer``: a model writes programs for the question (program of thought,
  ``PROGRAM_INSTRUCTION``, evaluated by ``ponder.answers.program``, never run); a
  step-by-step answer scores the share of program answers it agrees with, so a path
  its own model's program confirms wins (all tie when no program answers: the vote
  decides).

Either asks the solving backend, or another tier the operator names (``judge=``: a
larger model as the verifier of a smaller one), loaded on its first use and kept
(``ponder.strategies.tiers.Tier``). Their calls are priced at their own model and
reported by role (``Spent``): a best-of-N judged by a larger tier states its true cost.
"""

from __future__ import annotations

import asyncio
import copy
import re
from typing import TypeVar

from ponder.answers import parse_number
from ponder.answers.program import PROGRAM_INSTRUCTION, program_answer
from ponder.backends.base import Backend
from ponder.budgets import CEILING
from ponder.strategies.base import Work, draw, sampling_for, with_instruction
from ponder.strategies.scored import PARTIAL, Scored, Spent
from ponder.strategies.tiers import Loader, Tier, as_tier
from ponder.types import Message, Sample, SamplingParams

JUDGE_PROMPT = (
    "Question:\n{question}\n\nProposed answer:\n{answer}\n\n"
    "Is the proposed answer correct? Rate it from 0 (wrong) to 10 (certainly right). "
    "Reply with the number only."
)
STEP_JUDGE_PROMPT = (
    "Question:\n{question}\n\nA partial solution:\n{answer}\n\n"
    "Are these steps correct so far? Rate them from 0 (a step is wrong) to 10 (every step "
    "is certainly right). Reply with the number only."
)
_SCORE = re.compile(r"-?\d+(?:\.\d+)?")
_M = TypeVar("_M", bound="ModelCheck")


class ModelCheck:
    """What both scorers share: the tier they ask (None: the solving backend)."""

    role = "check"

    def __init__(self, judge: Tier | Backend | str | None = None) -> None:
        self.tier = as_tier(judge)

    async def checker(self, backend: Backend) -> Backend:
        """The model that checks: the judge tier (loaded now on its first use), else
        ``backend``."""
        return await self.tier.backend() if self.tier is not None else backend

    def with_loader(self: _M, load: Loader) -> _M:
        """The same scorer loading its judge tier with ``load`` (if not loaded yet)."""
        clone = copy.copy(self)
        clone.tier = self.tier.with_loader(load) if self.tier is not None else None
        return clone


class JudgeScorer(ModelCheck):
    """Asks a judge model to rate each candidate, or the steps so far of a search's
    unfinished path, at temperature 0; all candidates are asked at once."""

    name = "judge"
    role = "judge"
    max_tokens = 8

    def __init__(
        self,
        judge: Tier | Backend | str | None = None,
        prompt: str = JUDGE_PROMPT,
        step_prompt: str = STEP_JUDGE_PROMPT,
    ) -> None:
        super().__init__(judge)
        self.prompt = prompt
        self.step_prompt = step_prompt

    def work(self, candidates: int) -> Work:
        return Work(candidates, candidates * self.max_tokens)

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        judge = await self.checker(backend)
        params = SamplingParams(temperature=0.0, max_tokens=self.max_tokens)
        replies = await asyncio.gather(*(self._rate(judge, question, s, params) for s in samples))
        scores = [rating(reply.text) for reply in replies]
        return Scored.charged(scores, Spent.of(self.role, judge, replies), judge=judge.model)

    async def _rate(
        self, judge: Backend, question: str, sample: Sample, params: SamplingParams
    ) -> Sample:
        prompt = self.step_prompt if sample.finish_reason == PARTIAL else self.prompt
        text = prompt.format(question=question, answer=sample.text)
        return (await judge.generate([Message("user", text)], params, 1))[0]


def rating(reply: str) -> float:
    """The first number of a judge's reply, 0-10, as 0-1 (none: 0)."""
    match = _SCORE.search(reply)
    return min(max(float(match.group()), 0.0), 10.0) / 10 if match else 0.0


class CrossCheckScorer(ModelCheck):
    """Draws ``checks`` programs for the question (greedy when one, else at
    ``temperature``) and scores each candidate by the share of program answers it
    agrees with. Whole answers only: a search's partial path states none yet."""

    name = "crosscheck"
    role = "program"

    def __init__(
        self,
        judge: Tier | Backend | str | None = None,
        checks: int = 1,
        max_tokens: int | None = None,
        temperature: float = 0.7,
    ) -> None:
        super().__init__(judge)
        self.checks = checks
        self.max_tokens = max_tokens
        self.temperature = temperature

    def work(self, candidates: int) -> Work:
        """The programs, however many candidates: each up to the ceiling a cut one is
        resumed to, unless ``max_tokens`` is set."""
        return Work(self.checks, self.checks * (self.max_tokens or CEILING))

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        checker = await self.checker(backend)
        temperature = 0.0 if self.checks == 1 else self.temperature
        params = sampling_for(checker.model, self.max_tokens, temperature, program=True)
        asked = with_instruction([Message("user", question)], PROGRAM_INSTRUCTION)
        programs = await draw(checker, asked, params, self.checks)
        answers = [program_answer(p.text, "number", p.truncated) for p in programs]
        for program, answer in zip(programs, answers, strict=True):
            program.answer = answer
        found = [a for a in answers if a is not None]
        scores = [sum(agree(s.answer, a) for a in found) / self.checks for s in samples]
        spent = Spent.of(self.role, checker, programs)
        return Scored.charged(scores, spent, programs=answers, checker=checker.model)


def agree(answer: str | None, program: str) -> bool:
    """Whether an answer is the program's: the same text, or the same number."""
    if answer is None:
        return False
    if answer == program:
        return True
    try:
        mine, theirs = parse_number(answer), parse_number(program)
    except OverflowError:
        return False
    return mine is not None and mine == theirs
