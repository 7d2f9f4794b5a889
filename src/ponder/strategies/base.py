"""What every strategy shares: the protocol, drawing samples, and building a Result."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ponder import cost
from ponder.answers import extract_answer
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.types import Cost, Message, Result, Sample, SamplingParams, Usage, as_messages

Question = str | Sequence[Message | dict[str, Any]]

AnswerKind = Literal["auto", "number", "choice", "text"]

COT_INSTRUCTION = (
    "Solve the problem step by step. Then write the final answer on its own last line "
    "as 'Answer: <answer>'."
)


class Strategy(Protocol):
    name: str

    async def solve(self, question: Question, backend: Backend) -> Result: ...


class Options(BaseModel):
    """Base for typed strategy options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def parse(cls, values: dict[str, Any], strategy: str) -> Any:
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"bad options for strategy {strategy!r}: {problems}") from None


class ManyOptions(Options):
    """Options every multi-sample strategy shares."""

    n: int = Field(8, ge=1, le=256, description="samples to draw (the budget)")
    temperature: float = Field(0.7, ge=0.0, le=5.0, description="sampling temperature")
    max_tokens: int = Field(256, ge=1, le=32768, description="completion budget per sample")
    cot: bool = Field(True, description="ask for step-by-step reasoning")
    kind: AnswerKind = Field("auto", description="answer kind: auto, number, choice or text")

    def prompt(self, question: Question) -> list[Message]:
        messages = as_messages(question)
        return with_instruction(messages, COT_INSTRUCTION) if self.cot else messages

    def sampling(self) -> SamplingParams:
        return SamplingParams(temperature=self.temperature, max_tokens=self.max_tokens)


def with_instruction(messages: list[Message], instruction: str) -> list[Message]:
    """Prepend an instruction to the last user message (small models ignore system prompts)."""
    out = list(messages)
    for i in range(len(out) - 1, -1, -1):
        if out[i].role == "user":
            out[i] = Message("user", f"{out[i].content}\n\n{instruction}", out[i].extra)
            break
    return out


async def draw(
    backend: Backend, messages: Sequence[Message], params: SamplingParams, n: int
) -> list[Sample]:
    """n samples: one request when the backend shares the prefill, else n concurrent ones."""
    if n == 1 or backend.supports_n:
        return await backend.generate(messages, params, n)
    batches = await asyncio.gather(*(backend.generate(messages, params, 1) for _ in range(n)))
    return [s for batch in batches for s in batch]


def annotate(samples: Sequence[Sample], kind: str, choices: Sequence[str] | None) -> None:
    for sample in samples:
        if sample.answer is None:
            sample.answer = extract_answer(sample.text, kind=kind, choices=choices)


def finish(
    *,
    strategy: str,
    backend: Backend,
    samples: list[Sample],
    chosen: Sample | None,
    answer: str | None,
    confidence: float,
    votes: dict[str, float],
    wall_s: float,
    trace: list[dict[str, Any]],
    extra_usage: Usage | None = None,
    extra_cost: Cost | None = None,
    tied: list[str] | None = None,
) -> Result:
    """The Result; ``extra_usage``/``extra_cost`` are calls made elsewhere (a judge)."""
    usage = Usage.from_samples(samples, wall_s=wall_s)
    spent = cost.estimate(usage, backend.model, backend.active_params)
    if extra_usage is not None:
        usage = usage + extra_usage
        usage.wall_s = wall_s
    if extra_cost is not None:
        spent = spent + extra_cost
    return Result(
        answer=answer,
        text=chosen.text if chosen else "",
        confidence=confidence,
        strategy=strategy,
        samples=samples,
        votes=votes,
        usage=usage,
        cost=spent,
        trace=trace,
        model=backend.model,
        tied=tied or [],
    )
