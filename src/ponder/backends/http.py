"""The OpenAI backend's transport: its options (timeouts, concurrency, the retry
policy), and one aiohttp session per event loop.

Retries follow an explicit policy (``retry=``): ``safe`` (the default) retries a
generation only when the upstream cannot have started it (connection refused, 408,
429, 503) and a GET on any failure; ``all`` also retries timeouts, dropped
connections and other 5xx (a generation may then run twice upstream); ``none`` never
retries.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ponder.errors import ConfigError

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
NOT_STARTED = {408, 429, 503}  # the upstream refused before generating
RETRY_POLICIES = ("safe", "all", "none")


@dataclass(frozen=True)
class OpenAIOptions:
    api_key_env: str = "OPENAI_API_KEY"
    timeout_s: float = 120.0
    concurrency: int = 16
    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    retry: str = "safe"
    max_n: int = 0  # the most choices one request may ask for (0: the server takes any n)

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        if self.max_n < 0:
            raise ConfigError("max_n must be zero (no limit) or more")
        if self.timeout_s <= 0:
            raise ConfigError("timeout must be positive (seconds)")
        if self.retries < 0:
            raise ConfigError("retries must be zero or more")
        if not 0 <= self.backoff_s <= self.max_backoff_s:
            raise ConfigError(f"backoff must be between 0 and {self.max_backoff_s:g} seconds")
        if self.retry not in RETRY_POLICIES:
            raise ConfigError(f"retry must be one of {', '.join(RETRY_POLICIES)}: {self.retry!r}")

    def retries_for(self, method: str, error: BaseException | int) -> bool:
        """Whether a failed exchange (an exception, or an error status) may be retried."""
        if self.retry == "none":
            return False
        if self.retry == "all" or method == "GET":
            return not isinstance(error, int) or error in RETRY_STATUS
        if isinstance(error, int):
            return error in NOT_STARTED
        return isinstance(error, aiohttp.ClientConnectorError)


class LoopClient:
    """The HTTP session and concurrency limit of one event loop.

    A parked async generator owns the session: ``aclose`` closes it, and so does
    ``asyncio.run`` when it shuts the loop's async generators down, for callers that
    never close the backend (no "Unclosed client session" at exit).
    """

    def __init__(self, url: str, options: OpenAIOptions, headers: dict[str, str]) -> None:
        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(options.concurrency)
        self.session = aiohttp.ClientSession(
            headers=headers,
            json_serialize=compact_json,
            # idle connections go before the 5 s after which uvicorn, vLLM and llama.cpp drop
            # them: a POST on a connection the server is closing fails, and is not retried
            connector=aiohttp.TCPConnector(limit=options.concurrency * 2, keepalive_timeout=4.0),
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=options.timeout_s,  # a pooled connection or a new one
                sock_connect=min(10.0, options.timeout_s),
                sock_read=options.timeout_s,
            ),
            proxy=env_proxy(url),  # trust_env would ask a thread for it on every request
        )
        self._owner = self._own()

    @classmethod
    async def open(cls, url: str, options: OpenAIOptions, headers: dict[str, str]) -> LoopClient:
        client = cls(url, options, headers)
        await anext(client._owner)  # first step: the loop now tracks the generator
        return client

    async def _own(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            await self.session.close()

    async def aclose(self) -> None:
        await self._owner.aclose()


def env_proxy(url: str) -> str | None:
    """The proxy that HTTP(S)_PROXY, ALL_PROXY and NO_PROXY name for ``url`` (httpx honoured
    them too)."""
    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


def compact_json(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
