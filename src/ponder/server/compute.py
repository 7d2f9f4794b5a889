"""Requests answered by a strategy: build it from the request, run it, and shape the
OpenAI response with the ``ponder`` extension (strategy, votes, samples, cost)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from ponder.backends import wire
from ponder.backends.base import Backend
from ponder.routing.router import Router
from ponder.server.errors import ApiError
from ponder.server.protocol import ChatCompletionRequest, SamplingFields, text_of
from ponder.strategies import make_strategy, parse_strategy_spec
from ponder.strategies.auto import AutoStrategy
from ponder.strategies.base import Strategy
from ponder.types import Cost, Message, Question, Result, Usage

REJECTED = ("tools", "tool_choice", "response_format", "logprobs", "top_logprobs")


def strategy_name(spec: str) -> str:
    return parse_strategy_spec(spec)[0]


class StrategyBuilder:
    """Strategies from specs plus the request's checked options, cached (strategies hold
    no state). ``auto`` runs on the operator's router when one is configured."""

    def __init__(self, router: Router | None = None, size: int = 256) -> None:
        self.router = router
        self.size = size
        self._cache: OrderedDict[tuple[Any, ...], Strategy] = OrderedDict()

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def build(self, spec: str, overrides: dict[str, Any]) -> Strategy:
        key = (spec, tuple(sorted(overrides.items())))
        if (found := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            return found
        strategy = make_strategy(spec, **overrides)
        if self.router is not None and isinstance(strategy, AutoStrategy):
            strategy = strategy.with_router(self.router)
        self._cache[key] = strategy
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return strategy


def ignored_fields(request: SamplingFields, used: dict[str, Any]) -> list[str]:
    """Reject what a strategy cannot honour; return the fields it ignores."""
    present = request.model_fields_set | set(request.model_extra or {})
    for name in REJECTED:
        if name in present and getattr(request, name, None) not in (None, False):
            raise ApiError(
                400,
                f"{name} cannot be combined with a strategy: drop the strategy to pass the "
                "request through to the model",
                param=name,
            )
    handled = {"model", "messages", "prompt", "n", "stream", "stream_options", "ponder"}
    if "max_tokens" in used:
        handled |= {"max_tokens", "max_completion_tokens"}
    return sorted(present - handled - set(used))


def chat_messages(request: ChatCompletionRequest) -> list[Message]:
    return [Message(m.role, text_of(m.content)) for m in request.messages]


async def solve(
    strategy: Strategy, messages: list[Message], backend: Backend, n: int
) -> list[Result]:
    """``n`` independent answers (the OpenAI ``n``), each from one run of the strategy."""
    question = Question(tuple(messages))
    if n == 1:
        return [await strategy.solve(question, backend)]
    return list(await asyncio.gather(*(strategy.solve(question, backend) for _ in range(n))))


def total_usage(results: list[Result]) -> Usage:
    usage = Usage()
    for result in results:
        usage = usage + result.usage
    return usage


def chat_response(
    results: list[Result], request_id: str, model: str, strategy: str, ignored: list[str]
) -> dict[str, Any]:
    usage = total_usage(results)
    response = wire.completion(
        f"chatcmpl-{request_id}",
        model,
        [(result.text, finish_reason(result)) for result in results],
        wire.usage_object(usage.prompt_tokens, usage.completion_tokens),
    )
    response["ponder"] = extension(results, strategy, usage, ignored)
    return response


def finish_reason(result: Result) -> str:
    chosen = next((s for s in result.samples if s.text == result.text), None)
    return chosen.finish_reason if chosen is not None else "stop"


def extension(
    results: list[Result], strategy: str, usage: Usage, ignored: list[str]
) -> dict[str, Any]:
    cost = sum((r.cost for r in results), Cost())
    first = results[0]
    return {
        "strategy": strategy,
        "answer": first.answer,
        "confidence": first.confidence,
        "votes": first.votes,
        "samples": usage.samples,
        "requests": usage.requests,
        "wall_s": round(max(r.usage.wall_s for r in results), 6),
        "cost": cost.to_dict(),
        "choices": [
            {"index": i, "answer": r.answer, "confidence": r.confidence, "votes": r.votes}
            for i, r in enumerate(results)
        ],
        "ignored": ignored,
    }
