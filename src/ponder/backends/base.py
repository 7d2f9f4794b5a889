"""The one contract every engine implements.

A backend turns messages into samples. What it can do is declared as class flags
(``supports_n``: one request returns n samples sharing the prompt prefill;
``supports_logprobs``), so strategies ask a flag and never a vendor. Backends that
front an OpenAI-shaped engine also expose ``chat_raw``/``stream_raw`` so the proxy
can pass a request through untouched.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol, runtime_checkable

from ponder.types import Message, Sample, SamplingParams


@runtime_checkable
class Backend(Protocol):
    name: str
    model: str
    supports_n: bool
    supports_logprobs: bool
    active_params: float | None

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]: ...


class BaseBackend:
    """Shared defaults; subclasses implement ``generate`` (and the raw calls if they can)."""

    name: str = "backend"
    model: str = "unknown"
    supports_n: bool = False
    supports_logprobs: bool = False
    supports_raw: bool = False
    active_params: float | None = None

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        raise NotImplementedError

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send an OpenAI chat-completions body as is; return the response object."""
        raise NotImplementedError(f"{self.name} cannot pass requests through")

    def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Stream an OpenAI chat-completions body; yields chunk objects."""
        raise NotImplementedError(f"{self.name} cannot stream requests through")

    async def check(self) -> None:
        """Raise a BackendError when the backend is not ready to answer."""

    async def aclose(self) -> None:
        """Release connections or models."""


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def check_n(n: int) -> None:
    from ponder.errors import ConfigError

    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ConfigError(f"n must be a positive integer, got {n!r}")
    if n > 256:
        raise ConfigError(f"n={n} is too many samples for one call: use at most 256")


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
    """Samples from an OpenAI chat-completions response (one request).

    When every choice carries token logprobs, each choice's completion tokens are
    counted from them exactly (llama.cpp's server reports one choice's tokens in
    ``usage`` for n > 1); otherwise ``usage.completion_tokens`` is split by length.
    """
    request_id = str(data.get("id") or new_request_id())
    usage = data.get("usage") or {}
    choices = data.get("choices") or []
    prompt_tokens = int(usage.get("prompt_tokens") or 0)
    total_completion = int(usage.get("completion_tokens") or 0)
    samples = []
    for choice in choices:
        message = choice.get("message") or {}
        token_logprobs = _token_logprobs(choice)
        samples.append(
            Sample(
                text=message.get("content") or "",
                request_id=request_id,
                prompt_tokens=prompt_tokens,
                finish_reason=str(choice.get("finish_reason") or "stop"),
                token_logprobs=token_logprobs,
                latency_s=latency_s,
                seed=params.seed,
                temperature=params.temperature,
                model=model,
            )
        )
    _assign_completion_tokens(samples, total_completion)
    return samples


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
