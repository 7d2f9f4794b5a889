"""``/v1/completions`` served through chat: each prompt becomes one user message.

Backends speak chat (and llama.cpp, vLLM and OpenAI all apply the model's chat
template), so a legacy request is rewritten as a chat request, answered by the
same pass-through or strategy path, and the answer rewritten as a
``text_completion``. ``echo``, ``suffix`` and token ``logprobs`` need the raw
prompt API and are refused with a 400 rather than silently dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ponder.server.errors import ApiError
from ponder.server.protocol import CompletionRequest

LEGACY_ONLY = ("prompt", "echo", "suffix", "logprobs", "best_of")


def check_legacy(request: CompletionRequest) -> list[str]:
    """The prompts of a legacy request, after refusing what chat cannot honour."""
    if request.echo:
        raise ApiError(400, "echo is not supported: completions are served via chat", param="echo")
    if request.suffix:
        raise ApiError(400, "suffix is not supported by this proxy", param="suffix")
    if request.logprobs:
        raise ApiError(400, "token logprobs need /v1/chat/completions", param="logprobs")
    prompts = [request.prompt] if isinstance(request.prompt, str) else list(request.prompt)
    if not prompts:
        raise ApiError(400, "prompt is empty", param="prompt")
    if len(prompts) > 1 and request.stream:
        raise ApiError(400, "stream one prompt at a time", param="prompt")
    return prompts


def chat_body(raw: dict[str, Any], prompt: str) -> dict[str, Any]:
    body = {k: v for k, v in raw.items() if k not in LEGACY_ONLY}
    body["messages"] = [{"role": "user", "content": prompt}]
    body.setdefault("max_tokens", 16)  # the legacy API's default
    return body


def text_response(chats: list[dict[str, Any]], n: int) -> dict[str, Any]:
    """One ``text_completion`` from the chat responses of each prompt, in prompt order."""
    first = chats[0]
    choices = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    for p, chat in enumerate(chats):
        for choice in chat.get("choices") or []:
            message = choice.get("message") or {}
            choices.append(
                {
                    "index": p * n + int(choice.get("index") or 0),
                    "text": message.get("content") or "",
                    "logprobs": None,
                    "finish_reason": choice.get("finish_reason"),
                }
            )
        for key in usage:
            usage[key] += int((chat.get("usage") or {}).get(key) or 0)
    out = {
        "id": "cmpl-" + str(first.get("id", "")).removeprefix("chatcmpl-"),
        "object": "text_completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": choices,
        "usage": usage,
    }
    if (extension := merged_extension(chats, n)) is not None:
        out["ponder"] = extension
    return out


def merged_extension(chats: list[dict[str, Any]], n: int) -> dict[str, Any] | None:
    """One ``ponder`` object for all prompts: the first prompt's answer and votes, the
    samples, requests and cost of every prompt, and each prompt's choices."""
    parts = [(p, chat["ponder"]) for p, chat in enumerate(chats) if "ponder" in chat]
    if not parts:
        return None
    out = dict(parts[0][1])
    for key in ("samples", "requests"):
        if key in out:
            out[key] = sum(int(part.get(key) or 0) for _, part in parts)
    if "wall_s" in out:
        out["wall_s"] = max(float(part.get("wall_s") or 0.0) for _, part in parts)
    if isinstance(out.get("cost"), dict):
        costs = [part.get("cost") or {} for _, part in parts]
        out["cost"] = {key: sum(float(c.get(key) or 0.0) for c in costs) for key in out["cost"]}
    if "choices" in out:
        out["choices"] = [
            {**choice, "index": p * n + int(choice.get("index") or 0)}
            for p, part in parts
            for choice in part.get("choices") or []
        ]
    return out


async def text_chunks(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Chat chunks rewritten as legacy completion chunks; role-only chunks are dropped."""
    try:
        async for out in _rewrite(chunks):
            yield out
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


async def _rewrite(chunks: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    async for chunk in chunks:
        out = {k: v for k, v in chunk.items() if k != "choices"}
        out["object"] = "text_completion"
        out["id"] = "cmpl-" + str(chunk.get("id", "")).removeprefix("chatcmpl-")
        out["choices"] = []
        for choice in chunk.get("choices") or []:
            text = (choice.get("delta") or {}).get("content")
            if text is None and choice.get("finish_reason") is None:
                continue
            out["choices"].append(
                {
                    "index": choice.get("index", 0),
                    "text": text or "",
                    "logprobs": None,
                    "finish_reason": choice.get("finish_reason"),
                }
            )
        if out["choices"] or chunk.get("usage") or "ponder" in chunk:
            yield out
