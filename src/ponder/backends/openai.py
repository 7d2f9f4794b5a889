"""Any OpenAI-compatible endpoint: vLLM, SGLang, llama.cpp server, Ollama, OpenAI.

``n`` is sent as one request when the server honours it; a server that returns
fewer choices than asked (Ollama ignores ``n``) is remembered, and the rest are
drawn as concurrent single requests under a concurrency limit. A server that refuses
a large ``n`` (llama.cpp's server takes at most its slots) is configured with
``max_n``: larger draws go out as several requests of at most that many. Failures retry
with exponential backoff that honours ``Retry-After``, under an explicit policy
(``retry=``): ``safe`` (the default) retries a generation only when the upstream
cannot have started it (connection refused, 408, 429, 503) and a GET on any
failure; ``all`` also retries timeouts, dropped connections and other 5xx (a
generation may then run twice upstream); ``none`` never retries. Token logprobs are asked
for n > 1 so that each choice's tokens are counted exactly, whatever the server
puts in ``usage``.

HTTP goes through aiohttp, whose keep-alive pool costs about a tenth of a
millisecond of CPU per request at hundreds in flight, where httpx's pool cost
several milliseconds (``benchmarks/http_client.py``). Its session belongs to an
event loop, so each loop that uses the backend gets its own, made on first use.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import aiohttp

from ponder.backends.base import BaseBackend, check_n, in_requests_of, with_seed_offset
from ponder.backends.http import LoopClient, OpenAIOptions
from ponder.backends.wire import chat_body, samples_from_response
from ponder.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
    UpstreamError,
)
from ponder.types import Message, Sample, SamplingParams

# One exchange: status, then the value to return (below 400) or the error body, and
# the Retry-After header.
Attempt = Callable[[], Awaitable[tuple[int, Any, "str | None"]]]


class OpenAIBackend(BaseBackend):
    supports_logprobs = True

    def __init__(
        self, base_url: str, model: str | None = None, options: OpenAIOptions | None = None
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL must start with http:// or https://, got {base_url!r}")
        self.options = options or OpenAIOptions()
        self.base_url = base_url.rstrip("/")
        self.model = model or ""
        self.name = f"openai:{self.base_url}#{self.model}"
        self.supports_n = True  # until the server shows otherwise
        self.max_n = self.options.max_n or None
        self._headers: dict[str, str] = {}
        if key := os.environ.get(self.options.api_key_env):
            self._headers["Authorization"] = f"Bearer {key}"
        self._client: LoopClient | None = None

    async def _loop_client(self) -> LoopClient:
        client = self._client  # open() never suspends: two first calls cannot make two
        if client is None or client.loop is not asyncio.get_running_loop():
            client = self._client = await LoopClient.open(
                self.base_url, self.options, self._headers
            )
        return client

    async def resolve_model(self) -> str:
        """The model id to send: the one given, else the server's first model."""
        if not self.model:
            data = await self._request("GET", "/models")
            models = data.get("data") or []
            if not models:
                raise UpstreamError(f"{self.base_url} lists no models: name one after '#'", 404)
            self.model = str(models[0]["id"])
            self.name = f"openai:{self.base_url}#{self.model}"
        return self.model

    async def check(self) -> None:
        await self._request("GET", "/models")

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        check_n(n)
        model = await self.resolve_model()
        if self.max_n and n > self.max_n:
            return await in_requests_of(self.max_n, self.generate, messages, params, n)
        if not self.supports_n and n > 1:
            return await self._concurrent(messages, params, n, model)
        samples = await self._one(messages, params, n, model)
        if len(samples) < n:
            self.supports_n = False
            samples += await self._concurrent(messages, params, n - len(samples), model)
        return samples

    async def _one(
        self, messages: Sequence[Message], params: SamplingParams, n: int, model: str
    ) -> list[Sample]:
        body = chat_body(messages, params, n, model)
        if n > 1:
            body["logprobs"] = True
        start = time.perf_counter()
        async with (await self._loop_client()).semaphore:
            data = await self._request("POST", "/chat/completions", body)
        return samples_from_response(data, params, time.perf_counter() - start, model)

    async def _concurrent(
        self, messages: Sequence[Message], params: SamplingParams, n: int, model: str
    ) -> list[Sample]:
        batches = await asyncio.gather(
            *(self._one(messages, with_seed_offset(params, i), 1, model) for i in range(n))
        )
        return [s for batch in batches for s in batch[:1]]

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = self.base_url + path
        content = await self._retrying(method, lambda: self._send(method, url, body))
        return _json(content, url)

    async def _retrying(self, method: str, attempt: Attempt) -> Any:
        """What ``attempt`` gives once the upstream answers below 400, under the retry
        policy; plain and streamed requests share it, so a dead or busy upstream is retried
        alike (and fails with the same status) whichever the client asked for."""
        retryable = self.options.retries_for
        for tried in range(self.options.retries + 1):
            last = tried == self.options.retries
            retry_after = None
            try:
                status, value, retry_after = await attempt()
            except asyncio.TimeoutError as exc:  # first: aiohttp's timeouts are ClientErrors too
                if last or not retryable(method, exc):
                    raise BackendTimeoutError(
                        f"{self.base_url} did not answer within {self.options.timeout_s:g}s"
                    ) from exc
            except aiohttp.ClientError as exc:
                if last or not retryable(method, exc):
                    raise BackendUnavailableError(
                        f"cannot reach {self.base_url} ({exc.__class__.__name__}): is the "
                        "server running, and is the URL right?"
                    ) from exc
            else:
                if status < 400:
                    return value
                if last or not retryable(method, status):
                    raise upstream_error(status, value)
            await asyncio.sleep(self._delay(tried, retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, method: str, url: str, body: dict[str, Any] | None
    ) -> tuple[int, bytes, str | None]:
        """Status, body and ``Retry-After`` of one HTTP exchange."""
        session = (await self._loop_client()).session
        async with session.request(method, url, json=body) as response:
            return response.status, await response.read(), response.headers.get("Retry-After")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(float(retry_after), self.options.max_backoff_s)
            except ValueError:
                pass
        base = self.options.backoff_s * (2**attempt)
        return float(min(base * (0.5 + random.random()), self.options.max_backoff_s))

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._raw("/chat/completions", body)

    def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self._stream("/chat/completions", body)

    async def completion_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """A legacy completions body, sent to the server's ``/completions`` as it is."""
        return await self._raw("/completions", body)

    def completion_stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        return self._stream("/completions", body)

    async def _raw(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        model = await self.resolve_model()
        async with (await self._loop_client()).semaphore:
            return await self._request("POST", path, dict(body, model=model))

    async def _stream(self, path: str, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Upstream chunks as they come; closing the iterator closes the upstream stream."""
        model = await self.resolve_model()
        client = await self._loop_client()
        request = dict(body, model=model, stream=True)
        url = self.base_url + path
        pending = bytearray()
        async with client.semaphore:
            response = await self._retrying("POST", lambda: self._open(url, request))
            try:
                async with response:  # leaving drops a connection not read to its end
                    async for chunk in response.content.iter_any():
                        for payload in sse_data(pending, chunk):
                            if payload == "[DONE]":
                                return
                            yield json.loads(payload)
            except asyncio.TimeoutError as exc:
                raise BackendTimeoutError(f"{self.base_url} stopped streaming: timeout") from exc
            except aiohttp.ClientError as exc:
                raise BackendUnavailableError(f"cannot reach {self.base_url}: {exc}") from exc

    async def _open(self, url: str, body: dict[str, Any]) -> tuple[int, Any, str | None]:
        """One attempt to open a stream: the unread response when the status is below
        400, else the error body and ``Retry-After``."""
        session = (await self._loop_client()).session
        response = await session.post(url, json=body)
        if response.status < 400:
            return response.status, response, None
        async with response:
            return response.status, await response.read(), response.headers.get("Retry-After")

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()


def sse_data(pending: bytearray, chunk: bytes) -> list[str]:
    """The ``data:`` payloads of the server-sent-event lines that ``chunk`` completes;
    the unfinished tail stays in ``pending`` for the next chunk."""
    pending += chunk
    payloads = []
    while (end := pending.find(b"\n")) >= 0:
        line = bytes(pending[:end])
        del pending[: end + 1]
        if line.startswith(b"data:"):
            payloads.append(line[5:].strip().decode())
    return payloads


def _json(content: bytes, url: str) -> dict[str, Any]:
    try:
        data = json.loads(content)
    except ValueError as exc:
        raise UpstreamError(f"{url} returned a body that is not JSON", 502) from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"{url} returned JSON that is not an object", 502)
    return data


def upstream_error(status: int, content: bytes) -> UpstreamError:
    """An UpstreamError carrying the upstream's own message, status, param and code."""
    text = content.decode(errors="replace")
    message, param, code = text[:500], None, None
    try:
        error = json.loads(text).get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict):
        message = str(error.get("message") or message)[:2000]
        param, code = _short(error.get("param")), _short(error.get("code"))
    elif isinstance(error, str):
        message = error[:2000]
    return UpstreamError(f"upstream {status}: {message}", status, param=param, code=code)


def _short(value: Any) -> str | None:
    """A ``param`` or ``code`` of an upstream error: a short string, else dropped."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)[:200]
    return None
