"""Plain data that flows between backends, strategies, the router and the harness."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ponder.errors import ConfigError

ROLES = ("system", "user", "assistant", "tool", "developer")
Kind = Literal["auto", "number", "choice", "text", "expr"]
KINDS: tuple[Kind, ...] = ("auto", "number", "choice", "text", "expr")


@dataclass(frozen=True)
class Message:
    """One chat message. ``extra`` keeps fields such as ``tool_calls`` or ``name`` verbatim."""

    role: str
    content: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content, **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        if not isinstance(data, dict) or "role" not in data:
            raise ConfigError(f"a message must be an object with a 'role', got {data!r:.80}")
        rest = {k: v for k, v in data.items() if k not in ("role", "content")}
        return cls(role=str(data["role"]), content=data.get("content"), extra=rest)


def as_messages(question: str | Sequence[Message | dict[str, Any]]) -> list[Message]:
    """Turn a question string or a list of messages/dicts into messages; reject empty input."""
    if isinstance(question, str):
        if not question.strip():
            raise ConfigError("the question is empty: pass some text to answer")
        return [Message("user", question)]
    messages = [m if isinstance(m, Message) else Message.from_dict(m) for m in question]
    if not messages:
        raise ConfigError("no messages given: pass at least one user message")
    return messages


@dataclass(frozen=True)
class Question:
    """What a strategy is asked: the messages, the kind of answer wanted, and the options
    of a multiple-choice question. Checked when made, so a bad kind fails before any
    model call; every strategy reads ``kind`` and ``choices`` from here, never from its
    own options (as DSPy's ``Example`` carries its fields)."""

    messages: tuple[Message, ...]
    kind: Kind = "auto"
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not self.messages:
            raise ConfigError("no messages given: pass at least one user message")
        if self.kind not in KINDS:
            raise ConfigError(f"kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if self.choices is not None and (
            not self.choices or not all(isinstance(c, str) and c.strip() for c in self.choices)
        ):
            raise ConfigError("choices must be a non-empty list of non-empty strings")

    @property
    def text(self) -> str:
        """The last user message's text (what a router or an extractor looks at)."""
        return last_user_text(self.messages)


QuestionLike = Question | str | Sequence[Message | dict[str, Any]]


def as_question(
    question: QuestionLike, kind: str = "auto", choices: Sequence[str] | None = None
) -> Question:
    """A Question from a string, messages, or a Question (returned as it is)."""
    if isinstance(question, Question):
        return question
    listed = tuple(choices) if choices is not None else None
    return Question(tuple(as_messages(question)), kind, listed)  # type: ignore[arg-type]


def last_user_text(messages: Sequence[Message]) -> str:
    """The text of the last user message (what a router or extractor looks at)."""
    for message in reversed(messages):
        if message.role == "user" and isinstance(message.content, str):
            return message.content
    return ""


@dataclass(frozen=True)
class SamplingParams:
    """How to sample. ``temperature=0`` means greedy.

    ``ceiling``: the most completion tokens a sample cut at ``max_tokens`` may reach by
    being resumed from its text (``ponder.strategies.resume``; None: ``max_tokens`` is
    final). Strategies' ``draw`` honours it; a backend sends ``max_tokens`` only."""

    temperature: float = 0.0
    max_tokens: int = 256
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    logprobs: bool = False
    ceiling: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 5.0:
            raise ConfigError(f"temperature must be between 0 and 5, got {self.temperature}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.ceiling is not None and self.ceiling < 1:
            raise ConfigError(f"ceiling must be at least 1, got {self.ceiling}")
        if not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")


@dataclass
class Sample:
    """One completion. Samples drawn by one request share its ``request_id``.

    ``prompt_tokens`` is the prompt of the request that produced the sample; when a
    request returns several samples, the prompt is counted once per request (see Usage).
    ``cached_tokens`` is the part of that prompt the backend served from its prefix
    cache (OpenAI's ``prompt_tokens_details.cached_tokens``, llama.cpp's ``cache_n``).
    ``token_ids`` are the tokens drawn, where the backend reports them (llama.cpp does):
    a cut-off sample continued from them joins exactly (``Continues``).
    """

    text: str
    request_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str = "stop"
    answer: str | None = None
    token_logprobs: list[float] | None = None
    latency_s: float = 0.0
    seed: int | None = None
    temperature: float = 0.0
    model: str = ""
    cached_tokens: int = 0
    token_ids: list[int] | None = None  # the drawn tokens, where the backend says them

    @property
    def truncated(self) -> bool:
        """True when the sample stopped at the length limit (``finish_reason`` "length")."""
        return self.finish_reason == "length"

    @property
    def mean_logprob(self) -> float | None:
        if not self.token_logprobs:
            return None
        return sum(self.token_logprobs) / len(self.token_logprobs)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "truncated": self.truncated}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Usage:
    """What was spent: tokens sent and generated, samples, requests and wall time.

    ``prompt_tokens`` counts every request's prompt once; ``cached_tokens`` is the part
    of it a backend reused from its prefix cache (a wave that re-sends the prompt), as
    OpenAI reports ``prompt_tokens_details.cached_tokens``; ``uncached_tokens`` is what
    had to be computed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    samples: int = 0
    requests: int = 0
    wall_s: float = 0.0
    cached_tokens: int = 0
    truncated: int = 0  # samples that stopped at the length limit

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def uncached_tokens(self) -> int:
        return self.total_tokens - self.cached_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.samples + other.samples,
            self.requests + other.requests,
            self.wall_s + other.wall_s,
            self.cached_tokens + other.cached_tokens,
            self.truncated + other.truncated,
        )

    @classmethod
    def from_samples(cls, samples: Iterable[Sample], wall_s: float = 0.0) -> Usage:
        """Sum samples, counting each request's prompt once."""
        usage = cls(wall_s=wall_s)
        seen: set[str] = set()
        for sample in samples:
            usage.samples += 1
            usage.truncated += sample.truncated
            usage.completion_tokens += sample.completion_tokens
            if sample.request_id not in seen:
                seen.add(sample.request_id)
                usage.requests += 1
                usage.prompt_tokens += sample.prompt_tokens
                usage.cached_tokens += min(sample.cached_tokens, sample.prompt_tokens)
        return usage

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_tokens": self.total_tokens}


@dataclass
class Cost:
    """Dollars (from a price table) and FLOPs (2 x active parameters x tokens)."""

    dollars: float = 0.0
    flops: float = 0.0

    def __add__(self, other: Cost) -> Cost:
        return Cost(self.dollars + other.dollars, self.flops + other.flops)

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class Result:
    """Everything about one answered question."""

    answer: str | None
    text: str
    confidence: float
    strategy: str
    samples: list[Sample] = field(default_factory=list)
    votes: dict[str, float] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    trace: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    tied: list[str] = field(default_factory=list)  # answers tied for the most votes, if any

    def to_dict(self, include_samples: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "answer": self.answer,
            "text": self.text,
            "confidence": self.confidence,
            "strategy": self.strategy,
            "model": self.model,
            "votes": self.votes,
            "usage": self.usage.to_dict(),
            "wall_s": self.usage.wall_s,
            "cost": self.cost.to_dict(),
            "trace": self.trace,
            "tied": self.tied,
        }
        if include_samples:
            out["samples"] = [s.to_dict() for s in self.samples]
        return out
