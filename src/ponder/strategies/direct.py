"""One sample: ``direct`` asks the question as is, ``cot`` asks for steps and an answer line."""

from __future__ import annotations

import math
import time

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import (
    COT_INSTRUCTION,
    AnswerKind,
    Options,
    Question,
    annotate,
    finish,
    with_instruction,
)
from ponder.types import Result, SamplingParams, as_messages


class DirectOptions(Options):
    temperature: float = Field(0.0, ge=0.0, le=5.0, description="0 is greedy")
    max_tokens: int = Field(256, ge=1, le=32768, description="completion budget per sample")
    kind: AnswerKind = Field("auto", description="answer kind: auto, number, choice or text")
    seed: int | None = Field(None, description="sampling seed")


class Direct:
    """A single sample, greedy by default: the 1x baseline every strategy is measured against."""

    name = "direct"
    instruction: str | None = None

    def __init__(self, options: DirectOptions | None = None) -> None:
        self.options = options or DirectOptions()

    async def solve(self, question: Question, backend: Backend) -> Result:
        start = time.perf_counter()
        messages = as_messages(question)
        if self.instruction:
            messages = with_instruction(messages, self.instruction)
        o = self.options
        params = SamplingParams(temperature=o.temperature, max_tokens=o.max_tokens, seed=o.seed)
        samples = await backend.generate(messages, params, 1)
        annotate(samples, o.kind, None)
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
    """One sample that is asked to reason step by step and end with 'Answer: X'."""

    name = "cot"
    instruction = COT_INSTRUCTION
