"""``/v1/completions``: forwarded as sent where the backend has the prompt API, else
served through chat, each prompt becoming one user message.

A pass-through model whose backend implements ``CompletesRaw`` (an ``openai:``
upstream: vLLM, SGLang, llama.cpp's server, Ollama, OpenAI) gets the body as it came,
with ``echo``, token ``logprobs``, ``suffix``, ``best_of`` and token-id prompts, and
``max_tokens`` set to the API's default of 16 when absent. A strategy model, or a
backend without the prompt API (``scripted:``, ``embedded:``), answers each prompt
through chat: the prompt is wrapped in the model's chat template, so the answer is not
the raw continuation a prompt API gives; such a response says ``ponder.served_as:
"chat"``, and what chat cannot honour (``echo``, ``logprobs``, ``suffix``, ``best_of``,
token-id prompts) is refused with a 400 naming the field rather than dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ponder.server.completions.protocol import CompletionRequest
from ponder.server.errors import ApiError

LEGACY_ONLY = ("prompt", "echo", "suffix", "logprobs", "best_of")
DEFAULT_MAX_TOKENS = 16  # the legacy API's default
VIA_CHAT = (
    "needs the model's prompt API, and this request is answered through chat (a strategy, "
    "or a backend without /v1/completions): drop it, or send the request without a "
    "strategy to a model served from an openai: upstream"
)


def prompt_count(prompt: str | list[Any]) -> int:
    """How many prompts a request holds: a string or a token-id list is one."""
    if isinstance(prompt, str) or (prompt and isinstance(prompt[0], int)):
        return 1
    return len(prompt)


def forward_body(raw: dict[str, Any]) -> dict[str, Any]:
    """The body sent to the upstream's prompt API: as it came, less ``ponder``, with the
    API's default ``max_tokens`` made explicit (llama.cpp's server has no limit)."""
    body = {k: v for k, v in raw.items() if k != "ponder"}
    body.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    return body


def check_legacy(request: CompletionRequest) -> list[str]:
    """The prompts of a request answered through chat, after refusing what chat cannot
    honour."""
    asked = {
        "echo": request.echo,
        "logprobs": request.logprobs is not None,
        "suffix": request.suffix is not None,
        "best_of": (request.best_of or 1) > 1,
    }
    for name, wanted in asked.items():
        if wanted:
            raise ApiError(400, f"{name} {VIA_CHAT}", param=name)
    prompt = request.prompt
    prompts = [prompt] if isinstance(prompt, str) else list(prompt)
    if not all(isinstance(p, str) for p in prompts):
        raise ApiError(
            400, f"a token-id prompt {VIA_CHAT}; or send the prompt as text", param="prompt"
        )
    if not prompts:
        raise ApiError(400, "prompt is empty", param="prompt")
    if len(prompts) > 1 and request.stream:
        raise ApiError(400, "stream one prompt at a time", param="prompt")
    return [p for p in prompts if isinstance(p, str)]


def chat_body(raw: dict[str, Any], prompt: str) -> dict[str, Any]:
    body = {k: v for k, v in raw.items() if k not in LEGACY_ONLY}
    body["messages"] = [{"role": "user", "content": prompt}]
    body.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
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
    out["ponder"] = {**(merged_extension(chats, n) or {}), "served_as": "chat"}
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
        if any(c["finish_reason"] is not None for c in out["choices"]):
            out["ponder"] = {**out.get("ponder", {}), "served_as": "chat"}
        if out["choices"] or chunk.get("usage") or "ponder" in chunk:
            yield out
