"""Requests answered by a strategy: build it from the request, run it, and shape the
OpenAI response with the ``ponder`` extension (strategy, votes, samples, cost)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from ponder.backends import wire
from ponder.server.errors import ApiError
from ponder.server.protocol import ChatCompletionRequest, SamplingFields, text_of
from ponder.server.sampling import cut
from ponder.strategies import make_strategy, parse_strategy_spec, strategy_options
from ponder.strategies.base import Strategy, solve_on
from ponder.strategies.tiers import Ladder
from ponder.types import Cost, Message, Question, Result, Usage

REJECTED = (
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "response_format",
    "logprobs",
    "top_logprobs",
    "logit_bias",
)


def strategy_name(spec: str) -> str:
    return parse_strategy_spec(spec)[0]


class StrategyBuilder:
    """Strategies from specs plus the request's checked options, cached (strategies hold
    no state). ``operator`` holds the operator's settings (the router), given to every
    strategy whose options declare them, when it is built."""

    def __init__(self, operator: dict[str, Any] | None = None, size: int = 256) -> None:
        self.operator = {k: v for k, v in (operator or {}).items() if v is not None}
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
        declared = strategy_options(strategy_name(spec))
        fields = declared.model_fields if declared is not None else {}
        given = {k: v for k, v in self.operator.items() if k in fields}
        strategy = make_strategy(spec, **{**given, **overrides})
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
    handled |= {"stop", "seed"}  # stop cuts the answer's text; seed seeds every draw
    if "max_tokens" in used:
        handled |= {"max_tokens", "max_completion_tokens"}
    return sorted(present - handled - set(used))


def chat_messages(request: ChatCompletionRequest) -> list[Message]:
    return [Message(m.role, text_of(m.content)) for m in request.messages]


async def solve(messages: list[Message], strategy: Strategy, ladders: list[Ladder]) -> list[Result]:
    """One answer (an OpenAI choice) per ladder the strategy solves on."""
    question = Question(tuple(messages))
    answers = (solve_on(strategy, question, ladder) for ladder in ladders)
    return list(await asyncio.gather(*answers))


def total_usage(results: list[Result]) -> Usage:
    usage = Usage()
    for result in results:
        usage = usage + result.usage
    return usage


def chat_response(
    results: list[Result],
    request_id: str,
    model: str,
    strategy: str,
    ignored: list[str],
    sampling: dict[str, Any],
) -> dict[str, Any]:
    """The chat completion of a strategy's answers; ``sampling.stop`` cuts each text."""
    usage = total_usage(results)
    response = wire.completion(
        f"chatcmpl-{request_id}",
        model,
        [answer_text(result, sampling.get("stop") or []) for result in results],
        wire.usage_object(usage.prompt_tokens, usage.completion_tokens),
    )
    response["ponder"] = extension(results, strategy, usage, ignored)
    response["ponder"]["sampling"] = sampling
    return response


def answer_text(result: Result, stop: list[str]) -> tuple[str, str]:
    """The answer's text and finish reason, cut at the first stop string."""
    if (shorter := cut(result.text, stop)) is not None:
        return shorter, "stop"
    return result.text, finish_reason(result)


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
