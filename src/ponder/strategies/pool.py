"""``sample``: draw the pool that replay reads, as a strategy like any other.

    sample:n=16,temperature=0.7,max_tokens=384     one greedy sample, then 16 at 0.7
    sample:n=8,program=true                        arithmetic programs instead of steps

Per question one greedy sample plus ``n`` samples at ``temperature``, all with the
step-by-step instruction; without ``max_tokens`` the model's step-by-step budget
(``ponder.budgets``). With ``program=true`` every sample is asked for an arithmetic
program instead and answers with its result (``ponder.answers.program``), at the plain
prompt's budget. The greedy sample answers; the eval runner stores every sample, and
replay (``ponder.eval.replay``) evaluates any strategy, stopping rule or router from
them without calling a model again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from pydantic import Field

from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.base import Backend
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
from ponder.types import Message, Question, Result, Sample

SAMPLE = "sample"


class SampleOptions(Options):
    n: int = Field(16, ge=0, le=256, description="samples at temperature, besides the greedy one")
    temperature: float = Field(0.7, gt=0.0, le=5.0, description="sampling temperature")
    max_tokens: int | None = Field(
        None,
        ge=1,
        le=32768,
        description="completion budget per sample (default: the model's, ponder.budgets)",
    )
    wave: int = Field(8, ge=1, le=256, description="samples per request (the backend's slots)")
    program: bool = Field(
        False, description="ask for arithmetic programs (program of thought), not steps"
    )


class SamplePool(BaseStrategy):
    """The sampling mode: a pool of samples per question; the greedy one answers."""

    name = SAMPLE

    def __init__(self, options: SampleOptions | None = None) -> None:
        self.options = options or SampleOptions()

    def work(self) -> Work:
        drawn = self.options.n + 1
        return Work(drawn, drawn * (self.options.max_tokens or CEILING))

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        backend = await ladder.bottom()
        samples = await draw_pool(question, backend, self.options)
        return finish(
            strategy=self.name,
            backend=backend,
            samples=samples,
            chosen=samples[0],
            answer=samples[0].answer,
            confidence=1.0,
            votes={},
            wall_s=time.perf_counter() - start,
            trace=[],
        )


def pool_messages(question: Question, program: bool = False) -> list[Message]:
    """The prompt every pool sample (and the router's live plans) use."""
    instruction = PROGRAM_INSTRUCTION if program else COT_INSTRUCTION
    return with_instruction(list(question.messages), instruction)


def reannotate(samples: Sequence[Sample], question: Question, program: bool) -> None:
    """Each sample's answer read afresh, as a live strategy reads it (``annotate``)."""
    for sample in samples:
        sample.answer = None
    annotate(samples, question, program)


async def draw_pool(question: Question, backend: Backend, options: SampleOptions) -> list[Sample]:
    """One greedy sample, then ``n`` sampled ones in waves; answers extracted. Drawn as
    a live strategy draws (``draw``: a sample cut at a default budget is resumed)."""
    messages = pool_messages(question, options.program)
    greedy = sampling_for(backend.model, options.max_tokens, 0.0, options.program)
    samples = await draw(backend, messages, greedy, 1)
    hot = replace(greedy, temperature=options.temperature)
    while len(samples) - 1 < options.n:
        n = min(options.wave, options.n - (len(samples) - 1))
        samples += await draw(backend, messages, hot, n)
    reannotate(samples, question, options.program)
    return samples
