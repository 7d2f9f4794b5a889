"""One sample: ``direct`` asks the question as is, ``cot`` asks for steps and an answer line,
``pot`` for a short arithmetic program whose result is the answer."""

from __future__ import annotations

import math
import time

from pydantic import Field

from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.budgets import CEILING
from ponder.strategies.base import (
    COT_INSTRUCTION,
    BaseStrategy,
    Options,
    Work,
    annotate,
    draw,
    finish,
    sampling_for,
    with_instruction,
)
from ponder.strategies.tiers import Ladder
from ponder.types import Question, Result


class DirectOptions(Options):
    temperature: float = Field(0.0, ge=0.0, le=5.0, description="0 is greedy")
    max_tokens: int | None = Field(
        None, ge=1, le=32768, description="completion budget per sample (default: the model's)"
    )
    seed: int | None = Field(None, description="sampling seed")


class Direct(BaseStrategy):
    """A single sample, greedy by default: the 1x baseline every strategy is measured against."""

    name = "direct"
    instruction: str | None = None
    program = False

    def __init__(self, options: DirectOptions | None = None) -> None:
        self.options = options or DirectOptions()

    def work(self) -> Work:
        return Work(1, self.options.max_tokens or CEILING)

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        backend = await ladder.bottom()
        messages = list(question.messages)
        if self.instruction:
            messages = with_instruction(messages, self.instruction)
        o = self.options
        step_by_step = self.instruction is not None
        params = sampling_for(
            backend.model, o.max_tokens, o.temperature, self.program, step_by_step, o.seed
        )
        samples = await draw(backend, messages, params, 1)
        annotate(samples, question, self.program)
        sample = samples[0]
        mean = sample.mean_logprob
        confidence = math.exp(mean) if mean is not None else 1.0
        votes = {sample.answer: 1.0} if sample.answer is not None else {}
        return finish(
            strategy=self.name,
            backend=backend,
            samples=samples,
            chosen=sample,
            answer=sample.answer,
            confidence=confidence,
            votes=votes,
            wall_s=time.perf_counter() - start,
            trace=[{"step": "sample", "n": 1, "temperature": o.temperature}],
        )


class ChainOfThought(Direct):
    """One sample that is question to reason step by step and end with 'Answer: X'."""

    name = "cot"
    instruction = COT_INSTRUCTION


class ProgramOfThought(Direct):
    """One sample that is question for a short arithmetic program; its result, evaluated by
    ``ponder.answers.program`` (never run by Python), is the answer."""

    name = "pot"
    instruction = PROGRAM_INSTRUCTION
    program = True
