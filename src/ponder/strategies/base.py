"""What every strategy shares: the protocol, drawing samples, and building a Result."""

from __future__ import annotations

import asyncio
import functools
import types
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, Protocol, Union, get_args, get_origin, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ponder.answers import sample_answer
from ponder.answers.program import PROGRAM_INSTRUCTION, PROGRAM_STOP, program_answer
from ponder.backends.base import Backend, Continues
from ponder.budgets import CEILING, ceiling_for, max_tokens_for
from ponder.deprecation import renamed
from ponder.errors import ConfigError
from ponder.strategies.resume import resume_cut
from ponder.strategies.scored import Spent
from ponder.strategies.tiers import Ladder, TierLike
from ponder.types import (
    Cost,
    Message,
    Question,
    QuestionLike,
    Result,
    Sample,
    SamplingParams,
    Usage,
    as_question,
)

COT_INSTRUCTION = (
    "Solve the problem step by step. Then write the final answer on its own last line "
    "as 'Answer: <answer>'."
)


class Strategy(Protocol):
    """A way to spend inference-time compute on one question.

    ``solve`` gets a ``Question`` (messages, answer kind, choices) and the ``Ladder`` of
    tiers to solve it on, cheapest first (one backend is a ladder of one), and returns a
    ``Result`` with usage and a trace. A strategy keeps no state between calls; its
    options, and anything it routes with, are fixed when it is built.
    """

    name: str

    async def solve(self, question: Question, tiers: Ladder) -> Result: ...


class BaseStrategy(ABC):
    """What the built-ins (and plugins) subclass: ``answer`` is the strategy on a
    ``Question`` and a ``Ladder``; ``solve`` also takes a question's text or messages
    and a single backend, and turns them into those here, once."""

    name: str

    async def solve(self, question: QuestionLike, tiers: TierLike) -> Result:
        return await self.answer(as_question(question), Ladder.of(tiers))

    @abstractmethod
    async def answer(self, question: Question, ladder: Ladder) -> Result: ...


async def solve_on(strategy: Strategy, question: Question, ladder: Ladder) -> Result:
    """``strategy`` on ``question`` and ``ladder``, as the API, the runner and the proxy
    call every strategy. A strategy written before ladders (not a ``BaseStrategy``) is
    given the bottom tier's backend, with a DeprecationWarning."""
    if isinstance(strategy, BaseStrategy):
        return await strategy.solve(question, ladder)
    warnings.warn(
        f"strategy {strategy.name!r} takes one backend: subclass "
        "ponder.strategies.BaseStrategy and solve on a Ladder (one backend is a ladder "
        "of one); the old form stops working in the next release",
        DeprecationWarning,
        stacklevel=2,
    )
    legacy: Any = strategy
    result: Result = await legacy.solve(question, await ladder.bottom())
    return result


@dataclass(frozen=True)
class Work:
    """An upper bound on what one ``solve`` may draw: samples, and completion tokens."""

    samples: int
    tokens: int

    def __mul__(self, times: int) -> Work:
        return Work(self.samples * times, self.tokens * times)


@runtime_checkable
class Bounded(Protocol):
    """A strategy that can say, before it runs, the most work one ``solve`` may take.

    The proxy admits a request only when this bound, times its prompts and ``n``, is
    within the operator's caps; a strategy without it is not served.
    """

    def work(self) -> Work: ...


@dataclass(frozen=True)
class StrategyEntry:
    """A registered strategy: how to build it from spec options, and its options class
    (which tells the proxy what a request may set; None: no option is open to requests)."""

    factory: Callable[[dict[str, Any]], Strategy]
    options: type[Options] | None = None


class Options(BaseModel):
    """Base for typed strategy options: unknown keys are errors, and so are infinite or
    NaN numbers. ``renamed`` maps old option names, still accepted for one release with a
    deprecation notice, to new ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    renamed: ClassVar[dict[str, str]] = {}

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, values: Any) -> Any:
        if cls.renamed and isinstance(values, dict):
            return renamed(values, cls.renamed, "strategy")
        return values

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

    @classmethod
    def request_fields(cls) -> frozenset[str]:
        """The options a request to the proxy may set: numbers, booleans and fixed choices.

        A free string can name a backend, a file or a URL, so only the operator sets one
        (a Literal of allowed values makes a string option open to requests).
        """
        return _request_fields(cls)


@functools.cache
def _request_fields(cls: type[Options]) -> frozenset[str]:
    """Computed once per options class: the proxy asks on every request."""
    return frozenset(name for name, field in cls.model_fields.items() if _closed(field.annotation))


def _closed(annotation: Any) -> bool:
    """True for bool, int, float, a Literal, or an optional of those."""
    if annotation in (bool, int, float, type(None)):
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return True
    if origin in (Union, types.UnionType):
        return all(_closed(arg) for arg in get_args(annotation))
    return False


class ManyOptions(Options):
    """Options every multi-sample strategy shares."""

    n: int = Field(8, ge=1, le=256, description="samples to draw (the budget)")
    temperature: float = Field(0.7, ge=0.0, le=5.0, description="sampling temperature")
    max_tokens: int | None = Field(
        None, ge=1, le=32768, description="completion budget per sample (default: the model's)"
    )
    cot: bool = Field(True, description="ask for step-by-step reasoning")
    program: bool = Field(
        False,
        description="ask for a short arithmetic program and answer with its result "
        "(program of thought; ponder evaluates it, never runs it)",
    )

    def prompt(self, question: Question) -> list[Message]:
        messages = list(question.messages)
        if self.program:
            return with_instruction(messages, PROGRAM_INSTRUCTION)
        return with_instruction(messages, COT_INSTRUCTION) if self.cot else messages

    def sampling(self, model: str = "") -> SamplingParams:
        """Sampling parameters; without ``max_tokens``, the model's default budget."""
        return sampling_for(model, self.max_tokens, self.temperature, self.program, self.cot)

    def work(self) -> Work:
        return Work(self.n, self.n * (self.max_tokens or CEILING))


def objects(options: dict[str, Any], *names: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``make_strategy("bon", scorer=fn, judge=backend)``: the options that are objects
    (a scorer, a backend, a router) go around the typed options, which hold only names."""
    found = {k: options[k] for k in names if options.get(k) is not None}
    found = {k: v for k, v in found.items() if not isinstance(v, str)}
    return {k: v for k, v in options.items() if k not in found}, found


def sampling_for(
    model: str,
    max_tokens: int | None,
    temperature: float,
    program: bool = False,
    step_by_step: bool = True,
    seed: int | None = None,
) -> SamplingParams:
    """How one sample is drawn: ``max_tokens`` or the model's default budget for its
    prompt (``ponder.budgets``), with the ceiling a cut sample is resumed up to when the
    budget is a default the model may outgrow. A program is short: it gets the plain
    prompt's budget and stops at the end of its code block (``PROGRAM_STOP``)."""
    budget = max_tokens_for(model, max_tokens, step_by_step and not program)
    return SamplingParams(
        temperature=temperature,
        max_tokens=budget,
        stop=PROGRAM_STOP if program else (),
        seed=seed,
        ceiling=ceiling_for(model, max_tokens),
    )


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
    """n samples: one call when the backend shares the prefill (it splits what its engine
    takes at once itself), else n concurrent ones. With a ``ceiling`` above
    ``max_tokens``, a sample cut before it states an answer is resumed up to it (a
    backend that cannot resume is asked for the ceiling at once)."""
    ceiling = params.ceiling or 0
    resumable = isinstance(backend, Continues)
    first = params if resumable or ceiling <= params.max_tokens else _at(params, ceiling)
    if n == 1 or backend.supports_n:
        samples = list(await backend.generate(messages, first, n))
    else:
        batches = await asyncio.gather(*(backend.generate(messages, first, 1) for _ in range(n)))
        samples = [s for batch in batches for s in batch]
    if isinstance(backend, Continues) and ceiling > params.max_tokens:
        await resume_cut(backend, messages, samples, params)
    return samples


def _at(params: SamplingParams, max_tokens: int) -> SamplingParams:
    return replace(params, max_tokens=max_tokens, ceiling=None)


def annotate(samples: Sequence[Sample], question: Question, program: bool = False) -> None:
    """Extract each sample's answer as the question's kind and choices say; a sample cut
    at the length limit without a final-answer marker abstains (``sample_answer``). With
    ``program``, the answer is the result of the sample's program (``program_answer``)."""
    for sample in samples:
        if sample.answer is None and program:
            sample.answer = program_answer(sample.text, question.kind, sample.truncated)
        elif sample.answer is None:
            sample.answer = sample_answer(
                sample.text, question.kind, question.choices, sample.truncated
            )


def finish(
    *,
    strategy: str,
    samples: list[Sample],
    chosen: Sample | None,
    answer: str | None,
    confidence: float,
    votes: dict[str, float],
    wall_s: float,
    trace: list[dict[str, Any]],
    backend: Backend | None = None,
    drawn: Sequence[Spent] = (),
    model: str | None = None,
    extra_usage: Usage | None = None,
    extra_cost: Cost | None = None,
    tied: list[str] | None = None,
    spent_by: Sequence[Spent] = (),
) -> Result:
    """Every Result is built here. What was drawn is ``drawn`` (by model: ``auto``'s
    tiers), or ``samples`` from ``backend``; ``extra_usage``/``extra_cost`` are calls
    made elsewhere (a judge). With ``spent_by`` (those calls by role and model) the trace
    ends with a ``spend`` step: what the proposer and each checking model spent.
    ``model`` names the answering model (default: the first that drew)."""
    if not drawn:
        if backend is None:
            raise ConfigError("finish needs the backend that drew the samples, or drawn=")
        drawn = [Spent.of("proposer", backend, samples)]
    usage, spent = _summed(drawn)
    usage.wall_s = wall_s
    if spent_by:
        entries = [e.to_dict() for e in (*drawn, *spent_by)]
        trace = [*trace, {"step": "spend", "models": entries}]
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
        model=model or drawn[0].model,
        tied=tied or [],
    )


def _summed(drawn: Sequence[Spent]) -> tuple[Usage, Cost]:
    usage, spent = Usage(), Cost()
    for entry in drawn:
        usage, spent = usage + entry.usage, spent + entry.cost
    return usage, spent
