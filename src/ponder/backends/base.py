"""The contract every engine implements, and nothing else.

A backend turns messages into samples (``generate``). What it can do is declared as
flags (``supports_n``: one request returns n samples sharing the prompt prefill;
``supports_logprobs``), so strategies ask a flag and never a vendor. An engine that takes
at most ``max_n`` samples a request sends a larger ``n`` as several requests itself
(``in_requests_of``), so every caller of ``generate`` may ask for any ``n``. ``check``
says whether it can answer now and ``aclose`` releases what it holds.

A backend that can go on with an assistant reply already begun implements
``Continues`` (``continue_text``): sampling is autoregressive, so a sample cut off at
``max_tokens`` and continued is distributed like one drawn with the larger budget,
which is how stored runs are extended (``ponder eval extend``).

A backend that fronts an OpenAI-shaped engine can also pass a request through
untouched: it implements ``PassThrough`` (``chat_raw``, ``stream_raw``), which the
proxy checks with ``isinstance``; one whose engine also has the legacy prompt API
(``/v1/completions``: raw and token-id prompts, ``echo``, token ``logprobs``)
implements ``CompletesRaw``. The OpenAI wire format itself lives in
``ponder.backends.wire``.

    class EchoBackend(BaseBackend):             # a third-party backend
        name = model = "echo"

        async def generate(self, messages, params, n=1):
            text = messages[-1].content
            return [Sample(text=text, request_id=new_request_id()) for _ in range(n)]

    register_backend("echo", lambda target, options: EchoBackend())
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol, runtime_checkable

from ponder.types import Message, Sample, SamplingParams


@runtime_checkable
class Backend(Protocol):
    """What strategies, the eval runner and the proxy need from a model."""

    name: str
    model: str
    supports_n: bool
    supports_logprobs: bool
    active_params: float | None

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        """``n`` samples for one prompt; a backend with ``supports_n`` shares the prefill."""
        ...

    async def check(self) -> None:
        """Raise a BackendError when the backend cannot answer now."""
        ...

    async def aclose(self) -> None:
        """Release connections or models."""
        ...


@runtime_checkable
class PassThrough(Protocol):
    """A backend that takes OpenAI chat-completions bodies as they are."""

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send the body; return the response object."""
        ...

    def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Stream the body; yield chunk objects (closing the iterator ends the stream)."""
        ...


@runtime_checkable
class CompletesRaw(Protocol):
    """A backend that takes OpenAI legacy completions bodies (``/v1/completions``) as
    they are: the engine sees the raw prompt, with no chat template around it."""

    async def completion_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send the body; return the ``text_completion`` object."""
        ...

    def completion_stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Stream the body; yield chunk objects (closing the iterator ends the stream)."""
        ...


@runtime_checkable
class Continues(Protocol):
    """A backend that continues an assistant reply from a given start (a prefill)."""

    async def continue_text(
        self,
        messages: Sequence[Message],
        prefix: str,
        params: SamplingParams,
        prefix_ids: Sequence[int] | None = None,
    ) -> Sample:
        """Go on with the assistant's reply to ``messages`` that begins with ``prefix``.

        ``prefix_ids``, the tokens drawn for ``prefix`` when known, make the join exact;
        without them the backend tokenises the text (its own split, which may differ
        from the drawn one). The Sample holds the new part only: its text (without
        ``prefix``), completion tokens and token logprobs, and why it stopped;
        ``prompt_tokens`` counts the prompt with the reply begun."""
        ...


@runtime_checkable
class Served(Protocol):
    """A backend with an OpenAI-compatible HTTP address (a remote server, or the
    embedded llama.cpp's own), where tools such as a tokenizer endpoint may live."""

    base_url: str


class BaseBackend:
    """Shared defaults for the core contract; subclasses implement ``generate``."""

    name: str = "backend"
    model: str = "unknown"
    supports_n: bool = False
    max_n: int | None = None  # the most samples one request takes (None: any); see in_requests_of
    supports_logprobs: bool = False
    active_params: float | None = None

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        raise NotImplementedError

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


Generate = Callable[[Sequence[Message], SamplingParams, int], Awaitable[list[Sample]]]


def with_seed_offset(params: SamplingParams, i: int) -> SamplingParams:
    """The parameters of the ``i``-th of several requests for one draw: with a seed, a
    different one each, so they do not repeat each other's samples."""
    if params.seed is None or i == 0:
        return params
    return replace(params, seed=params.seed + i)


async def in_requests_of(
    limit: int,
    generate: Generate,
    messages: Sequence[Message],
    params: SamplingParams,
    n: int,
) -> list[Sample]:
    """``n`` samples as concurrent requests of at most ``limit`` each (an engine's
    ``max_n``: llama.cpp runs one sample per slot), each with its own seed offset."""
    starts = range(0, n, limit)
    parts = await asyncio.gather(
        *(generate(messages, with_seed_offset(params, i), min(limit, n - i)) for i in starts)
    )
    return [sample for part in parts for sample in part]
