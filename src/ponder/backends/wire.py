"""The OpenAI chat-completions wire format, in one place: request bodies from a
``generate`` call, samples from a response, and the response and stream-chunk objects
that ponder builds itself (the scripted fake, the proxy's strategy answers).

Token counting follows what servers actually send: when every choice carries token
logprobs, each choice's completion tokens are counted from them (llama.cpp's server
reports only one choice's tokens in ``usage`` for n > 1); otherwise the reported
total is split by text length.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BeforeValidator

from ponder.backends.base import new_request_id
from ponder.types import Message, Sample, SamplingParams


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# An integer field of a request: JSON has one number type, so 2.0 is the integer 2 (as
# JSON Schema's "integer" and OpenAI take it); 2.5, "2" and true stay errors in strict models.
JsonInt = Annotated[int, BeforeValidator(_integral)]


# The chat fields an engine that only draws text samples honours, or that change nothing
# it returns (user, metadata, ...); and the values of other fields that ask for nothing.
PLAIN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "n",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "user",
        "metadata",
        "store",
        "service_tier",
        "parallel_tool_calls",
    }
)
NEUTRAL: dict[str, tuple[Any, ...]] = {
    "tools": ([],),
    "functions": ([],),
    "tool_choice": ("none",),
    "response_format": ({"type": "text"},),
    "logprobs": (False,),
    "top_logprobs": (0,),
    "logit_bias": ({},),
    "frequency_penalty": (0,),
    "presence_penalty": (0,),
}


def unhonoured(body: dict[str, Any]) -> str | None:
    """The first field of a chat body that a text-only engine cannot honour, if any."""
    for key, value in body.items():
        if key in PLAIN_FIELDS or value is None or value in NEUTRAL.get(key, ()):
            continue
        return key
    return None


def chat_body(
    messages: Sequence[Message], params: SamplingParams, n: int, model: str | None = None
) -> dict[str, Any]:
    """The OpenAI chat-completions body for a generate() call."""
    body: dict[str, Any] = {
        "messages": [m.to_dict() for m in messages],
        "max_tokens": params.max_tokens,
        "temperature": params.temperature,
        "top_p": params.top_p,
        "n": n,
    }
    if model:
        body["model"] = model
    if params.stop:
        body["stop"] = list(params.stop)
    if params.seed is not None:
        body["seed"] = params.seed
    if params.logprobs:
        body["logprobs"] = True
    return body


def samples_from_response(
    data: dict[str, Any],
    params: SamplingParams,
    latency_s: float,
    model: str,
) -> list[Sample]:
    """Samples from an OpenAI chat-completions response (one request)."""
    request_id = str(data.get("id") or new_request_id())
    usage = data.get("usage") or {}
    choices = data.get("choices") or []
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    total_completion = int(usage.get("completion_tokens") or 0)
    cached = cached_tokens(data)
    samples = []
    for choice in choices:
        message = choice.get("message") or {}
        token_logprobs = _token_logprobs(choice)
        samples.append(
            Sample(
                text=message.get("content") or "",
                request_id=request_id,
                prompt_tokens=prompt_tokens,
                cached_tokens=min(cached, prompt_tokens),
                finish_reason=str(choice.get("finish_reason") or "stop"),
                token_logprobs=token_logprobs,
                token_ids=_token_ids(choice),
                latency_s=latency_s,
                seed=params.seed,
                temperature=params.temperature,
                model=model,
            )
        )
    _assign_completion_tokens(samples, total_completion)
    return samples


def cached_tokens(data: dict[str, Any]) -> int:
    """Prompt tokens served from the backend's prefix cache: OpenAI's (and vLLM's)
    ``usage.prompt_tokens_details.cached_tokens``, else llama.cpp's ``timings.cache_n``."""
    details = (data.get("usage") or {}).get("prompt_tokens_details") or {}
    if isinstance(details, dict) and details.get("cached_tokens") is not None:
        return int(details["cached_tokens"] or 0)
    timings = data.get("timings") or {}
    if isinstance(timings, dict) and timings.get("cache_n") is not None:
        return int(timings["cache_n"] or 0)
    return 0


def _token_ids(choice: dict[str, Any]) -> list[int] | None:
    """The drawn token ids, when every logprob entry carries one (llama.cpp's do)."""
    content = (choice.get("logprobs") or {}).get("content")
    if not isinstance(content, list) or not content:
        return None
    ids = [t.get("id") for t in content if isinstance(t, dict)]
    found = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    return found if len(found) == len(content) else None


def _token_logprobs(choice: dict[str, Any]) -> list[float] | None:
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict) or not isinstance(logprobs.get("content"), list):
        return None
    return [float(t.get("logprob", 0.0)) for t in logprobs["content"]]


def _assign_completion_tokens(samples: list[Sample], total: int) -> None:
    if not samples:
        return
    if all(s.token_logprobs is not None for s in samples):
        for s in samples:
            s.completion_tokens = len(s.token_logprobs or [])
        return
    # An OpenAI-style server reports the sum over choices; split it by text length.
    lengths = [max(len(s.text), 1) for s in samples]
    remaining = total
    for i, s in enumerate(samples):
        share = total * lengths[i] // sum(lengths) if i < len(samples) - 1 else remaining
        s.completion_tokens = share
        remaining -= share


def usage_object(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(
    request_id: str,
    model: str,
    choices: Sequence[tuple[str, str]],
    usage: dict[str, int],
    created: int | None = None,
) -> dict[str, Any]:
    """A ``chat.completion`` object; ``choices`` are (content, finish_reason) pairs."""
    return {
        "id": request_id,
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": i,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish,
            }
            for i, (content, finish) in enumerate(choices)
        ],
        "usage": usage,
    }


def response_from_samples(samples: Sequence[Sample], model: str) -> dict[str, Any]:
    """The response a server would send for samples of one request."""
    prompt = samples[0].prompt_tokens if samples else 0
    spent = sum(s.completion_tokens for s in samples)
    request_id = f"chatcmpl-{samples[0].request_id if samples else new_request_id()}"
    return completion(
        request_id,
        model,
        [(s.text, s.finish_reason) for s in samples],
        usage_object(prompt, spent),
        created=0,
    )


def chunk(
    response: dict[str, Any], index: int, delta: dict[str, Any], finish: str | None = None
) -> dict[str, Any]:
    """One ``chat.completion.chunk`` of ``response``'s choice ``index``."""
    return {
        "id": response["id"],
        "object": "chat.completion.chunk",
        "created": response["created"],
        "model": response["model"],
        "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def usage_chunk(response: dict[str, Any]) -> dict[str, Any]:
    """The last chunk of a stream asked with ``stream_options.include_usage``."""
    return {**chunk(response, 0, {}), "choices": [], "usage": response["usage"]}


def response_chunks(
    response: dict[str, Any], include_usage: bool, pieces: int = 1
) -> list[dict[str, Any]]:
    """A decided response as a stream: per choice a role chunk, the content (in words
    when ``pieces`` > 1), a finish chunk; then the usage chunk when asked for. Extra
    top-level fields of the response (``ponder``) ride on the last choice chunk."""
    chunks = []
    for choice in response["choices"]:
        i, content = choice["index"], choice["message"]["content"] or ""
        chunks.append(chunk(response, i, {"role": "assistant", "content": ""}))
        words = content.split(" ") if pieces > 1 else [content]
        for k, word in enumerate(words):
            chunks.append(chunk(response, i, {"content": word if k == 0 else " " + word}))
        chunks.append(chunk(response, i, {}, choice["finish_reason"]))
    extra = {k: v for k, v in response.items() if k not in _COMPLETION_FIELDS}
    if chunks and extra:
        chunks[-1].update(extra)
    if include_usage:
        chunks.append(usage_chunk(response))
    if not include_usage:
        return chunks
    for item in chunks[:-1]:
        item["usage"] = None
    return chunks


_COMPLETION_FIELDS = {"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}
