"""Any OpenAI-compatible endpoint: vLLM, SGLang, llama.cpp server, Ollama, OpenAI.

``n`` is sent as one request when the server honours it; a server that returns
fewer choices than asked (Ollama ignores ``n``) is remembered, and the rest are
drawn as concurrent single requests under a concurrency limit. Failures retry
with exponential backoff that honours ``Retry-After``. Token logprobs are asked
for n > 1 so that each choice's tokens are counted exactly, whatever the server
puts in ``usage``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ponder.backends.base import BaseBackend, chat_body, check_n, samples_from_response
from ponder.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
    UpstreamError,
)
from ponder.types import Message, Sample, SamplingParams

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class OpenAIOptions:
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    concurrency: int = 16
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        if self.timeout_s <= 0:
            raise ConfigError("timeout must be positive (seconds)")
        if self.retries < 0:
            raise ConfigError("retries must be zero or more")


class OpenAIBackend(BaseBackend):
    supports_logprobs = True
    supports_raw = True

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        options: OpenAIOptions | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base URL must start with http:// or https://, got {base_url!r}")
        self.options = options or OpenAIOptions()
        self.base_url = base_url.rstrip("/")
        self.model = model or ""
        self.name = f"openai:{self.base_url}#{self.model}"
        self.supports_n = True  # until the server shows otherwise
        self._semaphore = asyncio.Semaphore(self.options.concurrency)
        headers = {}
        if key := os.environ.get(self.options.api_key_env):
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(
                self.options.timeout_s, connect=min(10.0, self.options.timeout_s)
            ),
            transport=transport,
            limits=httpx.Limits(max_connections=self.options.concurrency * 2),
        )

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
        async with self._semaphore:
            data = await self._request("POST", "/chat/completions", body)
        return samples_from_response(data, params, time.perf_counter() - start, model)

    async def _concurrent(
        self, messages: Sequence[Message], params: SamplingParams, n: int, model: str
    ) -> list[Sample]:
        def seed(i: int) -> SamplingParams:
            if params.seed is None:
                return params
            return replace(params, seed=params.seed + i)

        batches = await asyncio.gather(
            *(self._one(messages, seed(i), 1, model) for i in range(n))
        )
        return [s for batch in batches for s in batch[:1]]

    async def _request(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        for attempt in range(self.options.retries + 1):
            try:
                response = await self._client.request(method, path, json=body)
            except httpx.TimeoutException as exc:
                if attempt == self.options.retries:
                    raise BackendTimeoutError(
                        f"{self.base_url} did not answer within {self.options.timeout_s:g}s"
                    ) from exc
            except httpx.TransportError as exc:
                if attempt == self.options.retries:
                    raise BackendUnavailableError(
                        f"cannot reach {self.base_url} ({exc.__class__.__name__}): is the "
                        "server running, and is the URL right?"
                    ) from exc
            else:
                if response.status_code < 400:
                    return _json(response)
                if response.status_code not in RETRY_STATUS or attempt == self.options.retries:
                    raise upstream_error(response)
                await asyncio.sleep(self._delay(attempt, response))
                continue
            await asyncio.sleep(self._delay(attempt, None))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and (after := response.headers.get("retry-after")):
            try:
                return min(float(after), self.options.max_backoff_s)
            except ValueError:
                pass
        base = self.options.backoff_s * (2**attempt)
        return float(min(base * (0.5 + random.random()), self.options.max_backoff_s))

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        model = await self.resolve_model()
        async with self._semaphore:
            return await self._request("POST", "/chat/completions", dict(body, model=model))

    async def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        model = await self.resolve_model()
        request = dict(body, model=model, stream=True)
        try:
            async with self._semaphore, self._client.stream(
                "POST", "/chat/completions", json=request
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise upstream_error(response)
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        break
                    yield json.loads(payload)
        except httpx.TimeoutException as exc:
            raise BackendTimeoutError(f"{self.base_url} stopped streaming: timeout") from exc
        except httpx.TransportError as exc:
            raise BackendUnavailableError(f"cannot reach {self.base_url}: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError as exc:
        raise UpstreamError(f"{response.url} returned a body that is not JSON", 502) from exc
    if not isinstance(data, dict):
        raise UpstreamError(f"{response.url} returned JSON that is not an object", 502)
    return data


def upstream_error(response: httpx.Response) -> UpstreamError:
    """An UpstreamError carrying the upstream's own message and status."""
    message = response.text[:500]
    try:
        error = response.json().get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or message)
        elif isinstance(error, str):
            message = error
    except (ValueError, AttributeError):
        pass
    return UpstreamError(f"upstream {response.status_code}: {message}", response.status_code)
