"""A strategy's answers as a chat completion: the OpenAI response with the ``ponder``
extension (strategy, votes, samples, cost)."""

from __future__ import annotations

import asyncio
from typing import Any

from ponder.backends import wire
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.chat.sampling import cut
from ponder.server.protocol import text_of
from ponder.strategies.base import Strategy, solve_on
from ponder.strategies.tiers import Ladder
from ponder.types import Cost, Message, Question, Result, Usage


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
