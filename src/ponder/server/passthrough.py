"""Requests without a strategy: sent to the backend as they came, answered as it answered.

The body is forwarded untouched but for the ``ponder`` extension (and ``model``,
which the backend sets to its own). Fields by which an upstream would draw longer or
more samples than ``max_tokens`` and ``n`` say (``n_predict``, ``min_tokens``,
``ignore_eos``, ``best_of``, ...) are refused: the work bound counts only those two.
The response and every stream chunk come back
unchanged but for ``model``, which names the id the client asked for. When the
client asked for ``stream_options.include_usage`` and the upstream put usage only
on a content chunk, a usage chunk is added before ``[DONE]`` as OpenAI specifies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from ponder.backends.base import Backend
from ponder.backends.wire import response_from_samples, unhonoured
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.errors import ApiError
from ponder.server.protocol import SamplingFields, text_of
from ponder.server.streaming import Stream, from_list
from ponder.types import Message, SamplingParams

UsageSink = Callable[[dict[str, Any] | None], None]
Record = Callable[[dict[str, Any] | None, int], None]  # usage, samples
# Upstream-specific fields that lengthen or multiply samples: llama.cpp, Ollama, vLLM,
# SGLang, TGI and Hugging Face generate() names.
UNBOUNDED = frozenset(
    {
        "n_predict",
        "n_cmpl",
        "num_predict",
        "min_tokens",
        "max_new_tokens",
        "min_new_tokens",
        "max_length",
        "min_length",
        "ignore_eos",
        "best_of",
        "use_beam_search",
        "num_beams",
        "num_return_sequences",
    }
)


def check_fields(request: SamplingFields) -> None:
    """Refuse a field an upstream would take as a length or sample count beyond the bound,
    at the top level or one level down (Ollama's ``options``, SGLang's ``sampling_params``)."""
    for name, value in (request.model_extra or {}).items():
        found = name if name in UNBOUNDED else None
        if found is None and isinstance(value, dict):
            inner = next((key for key in value if key in UNBOUNDED), None)
            found = f"{name}.{inner}" if inner is not None else None
        if found is not None:
            raise ApiError(
                400,
                f"{found[:80]} would set the upstream's completion length or sample count "
                "outside this server's work bound: use max_tokens and n instead",
                param=found[:200],
                code="unbounded_field",
            )


def forward_body(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != "ponder"}


async def forward(
    send: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]],
    open_stream: Callable[[dict[str, Any]], AsyncIterator[dict[str, Any]]],
    body: dict[str, Any],
    request: SamplingFields,
    record: Record,
    kind: str,
) -> dict[str, Any] | Stream:
    """``body`` sent through a backend's raw API (``send``, or ``open_stream`` for a
    stream), the answer relabelled with the model id the client asked for; ``kind`` is
    the object of the stream's chunks."""
    if not request.stream:
        response = await send(body)
        response["model"] = request.model
        record(response.get("usage"), len(response.get("choices") or []))
        return response
    upstream = open_stream(body)
    first = await anext(upstream, None)
    if first is None:
        return Stream(from_list([]))

    def sink(usage: dict[str, Any] | None) -> None:
        record(usage, request.n)

    return Stream(relay(first, upstream, request.model, request.include_usage, sink, kind))


async def relay(
    first: dict[str, Any],
    rest: AsyncIterator[dict[str, Any]],
    model: str,
    include_usage: bool,
    record: UsageSink,
    kind: str = "chat.completion.chunk",
) -> AsyncIterator[dict[str, Any]]:
    """Re-label and yield upstream chunks (``kind``: the object of a chunk the proxy adds);
    record the usage seen once the stream ends."""
    usage: dict[str, Any] | None = None
    usage_chunk_sent = False
    chunk: dict[str, Any] | None = first
    try:
        while chunk is not None:
            if chunk.get("usage"):
                usage = chunk["usage"]
                usage_chunk_sent = usage_chunk_sent or not chunk.get("choices")
            chunk["model"] = model
            yield chunk
            chunk = await anext(rest, None)
        if include_usage and usage is not None and not usage_chunk_sent:
            yield {
                "id": first.get("id"),
                "object": kind,
                "created": first.get("created"),
                "model": model,
                "choices": [],
                "usage": usage,
            }
    finally:
        await rest.aclose()  # type: ignore[attr-defined]
        record(usage)


async def generate_fallback(
    backend: Backend, request: ChatCompletionRequest, raw: dict[str, Any], model: str
) -> dict[str, Any]:
    """For a backend without raw calls: what ``generate`` can honour, else a 400 naming
    the first field it cannot (``wire.unhonoured``)."""
    if (name := unhonoured(raw)) is not None:
        raise ApiError(
            400,
            f"model {model!r} cannot take {name[:60]}: it draws plain text samples only",
            param=name[:200],
        )
    stop = request.stop if isinstance(request.stop, list) else [request.stop or ""]
    params = SamplingParams(
        temperature=1.0 if request.temperature is None else request.temperature,
        max_tokens=request.completion_budget or 256,
        top_p=request.top_p or 1.0,
        stop=tuple(s for s in stop if s),
        seed=request.seed,
    )
    problem = f"model {model!r} takes text content only: send text parts"
    messages = [
        Message.from_dict(
            {**m.model_dump(exclude_none=True), "content": text_of(m.content, problem)}
        )
        for m in request.messages
    ]
    samples = await backend.generate(messages, params, request.n)
    return response_from_samples(samples, model)
