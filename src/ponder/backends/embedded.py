"""In-process llama.cpp through xllamacpp's prebuilt wheels.

One request with ``n`` samples runs on parallel slots that share the prompt
prefill, so n samples cost far less than n requests. The model loads once per
process and is shared by every backend object that asks for the same settings.
llama.cpp's ``usage`` counts a single choice when n > 1, so each choice's tokens are
counted from its token logprobs, which are always requested.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponder import models
from ponder.backends.base import BaseBackend, check_n
from ponder.backends.wire import chat_body, samples_from_response
from ponder.errors import BackendError, BackendUnavailableError, ConfigError
from ponder.types import Message, Sample, SamplingParams

_SERVERS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class EmbeddedOptions:
    threads: int = 0  # 0: every core
    ctx: int = 2048  # context per slot
    slots: int = 8  # parallel sequences
    jinja: bool = False  # the GGUF's Jinja chat template (needed for tool calls)

    def __post_init__(self) -> None:
        for key in ("threads", "ctx", "slots"):  # jinja is a bool
            value = getattr(self, key)
            if not isinstance(value, int) or value < (0 if key == "threads" else 1):
                raise ConfigError(
                    f"embedded option {key} must be a positive integer, got {value!r}"
                )

    @property
    def n_threads(self) -> int:
        return self.threads or max(1, os.cpu_count() or 1)


def _load_server(path: Path, options: EmbeddedOptions) -> Any:
    key = (str(path), options)
    with _LOCK:
        if key in _SERVERS:
            return _SERVERS[key]
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise BackendUnavailableError(
                "xllamacpp is not installed: pip install xllamacpp"
            ) from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = options.ctx * options.slots
        params.n_parallel = options.slots
        params.cpuparams.n_threads = options.n_threads
        params.cpuparams_batch.n_threads = options.n_threads
        params.verbosity = -1
        params.warmup = False
        # SmolLM2's Jinja template injects a system prompt that derails the 135M model
        # (greedy "capital of France" turns into French rambling); the built-in ChatML
        # template without it answers "Paris". Tool calls need the Jinja template.
        params.use_jinja = options.jinja
        try:
            server = xllamacpp.Server(params)
        except Exception as exc:
            raise BackendUnavailableError(f"could not load {path}: {exc}") from exc
        _SERVERS[key] = server
        return server


class EmbeddedBackend(BaseBackend):
    """A GGUF model run in this process. ``model``: registry name or .gguf path."""

    supports_n = True
    supports_logprobs = True

    def __init__(
        self,
        model: str = models.DEFAULT_MODEL,
        options: EmbeddedOptions | None = None,
        progress: models.Progress | None = None,
    ) -> None:
        self.options = options or EmbeddedOptions()
        self.path = models.resolve(model, progress=progress)
        self.model = model
        self.name = f"embedded:{model}"
        entry = models.REGISTRY.get(model)
        self.active_params = entry.params if entry else None
        self._server = _load_server(self.path, self.options)

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible HTTP address llama.cpp listens on (loopback)."""
        return f"{self._server.listening_address}/v1"

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        check_n(n)
        body = chat_body(messages, params, n)
        body["logprobs"] = True
        start = time.perf_counter()
        data = await asyncio.to_thread(self._call, body)
        latency = time.perf_counter() - start
        return samples_from_response(data, params, latency, self.model)

    def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            data = self._server.handle_chat_completions(body)
        except ValueError as exc:
            raise ConfigError(f"the embedded model rejected the request: {exc}") from exc
        except Exception as exc:
            raise BackendError(f"the embedded model failed: {exc}") from exc
        if not isinstance(data, dict) or "error" in data:
            raise BackendError(f"the embedded model failed: {data!r:.200}")
        return data

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        data = await asyncio.to_thread(self._call, dict(body, stream=False))
        data["model"] = body.get("model", self.model)
        return data

    async def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        def push(chunk: Any) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            return False  # a truthy return tells llama.cpp to stop streaming

        def run() -> None:
            try:
                self._server.handle_chat_completions(dict(body, stream=True), push)
                loop.call_soon_threadsafe(queue.put_nowait, done)
            except Exception as exc:
                loop.call_soon_threadsafe(queue.put_nowait, exc)

        task = asyncio.ensure_future(asyncio.to_thread(run))
        try:
            while (item := await queue.get()) is not done:
                if isinstance(item, Exception):
                    raise BackendError(f"the embedded model failed: {item}") from item
                if isinstance(item, dict) and "error" in item:
                    raise BackendError(f"the embedded model failed: {item['error']}")
                yield dict(item, model=body.get("model", self.model))
        finally:
            await task
