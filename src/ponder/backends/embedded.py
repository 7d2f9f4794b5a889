"""In-process llama.cpp through xllamacpp's prebuilt wheels.

One request with ``n`` samples runs on parallel slots that share the prompt
prefill, so n samples cost far less than n requests. The model loads once per
process and is shared by every backend object that asks for the same settings.
llama.cpp's ``usage`` counts a single choice when n > 1, so each choice's tokens are
counted from its token logprobs, which are always requested (streamed or not).

Every request streams inside llama.cpp, so cancelling the coroutine that awaits
``generate()``, ``chat_raw()`` (without tools) or a ``stream_raw()`` stream (Ctrl-C, a
client that hung up) stops the work at the next token and frees its slots, instead of
finishing a generation nobody will read.

Continuation (``continue_text``, the ``Continues`` contract): llama.cpp renders the
messages with the same chat template a chat request uses (its ``/apply-template``),
the assistant's begun reply is appended, and a raw completion goes on from there.
Every sample this backend draws records its token ids (``Sample.token_ids``), and a
continuation given them appends those very tokens: the join is exact (a test checks
with greedy SmolLM2 that cut-and-continued equals one run of the full budget). Given
text only (samples stored without ids), llama.cpp tokenises it with its own split,
which is not always the drawn one: SmolLM2 draws "\n", "\n" where the tokenizer
makes one "\n\n" token, and the continuation then conditions on the other split (the
``prompt_tokens`` of the continuation tell: they differ from prompt plus drawn tokens).

Threads: llama.cpp's workers spin-wait between steps, which collapses when other
work shares the cores. The default thread count is the cores this process may use
(``os.sched_getaffinity``) less the ones the load average says are busy, and workers
sleep instead of spinning (``poll=0``) unless ``poll`` says otherwise.
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

import httpx

from ponder import models
from ponder.backends.base import BaseBackend, check_n, in_requests_of
from ponder.backends.llama_stream import Activity, Merged
from ponder.backends.wire import chat_body, samples_from_response
from ponder.cost import active_params_for
from ponder.errors import BackendError, BackendUnavailableError, ConfigError
from ponder.types import Message, Sample, SamplingParams

_SERVERS: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), not every core of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def default_threads(cores: int | None = None, load: float | None = None) -> int:
    """Threads for llama.cpp: the available cores less those the 1-minute load average
    says are busy, at least one (oversubscribed llama.cpp workers stall each other)."""
    cores = available_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except OSError:  # pragma: no cover - no load average
            load = 0.0
    return max(1, min(cores, round(cores - load + 0.25)))


@dataclass(frozen=True)
class EmbeddedOptions:
    threads: int = 0  # 0: chosen from the free cores (default_threads)
    ctx: int = 2048  # context per slot
    slots: int = 8  # parallel sequences
    jinja: bool = False  # the GGUF's Jinja chat template (needed for tool calls)
    poll: int = 0  # llama.cpp's busy-wait level 0-100 (0: sleep, llama.cpp's own default 50)

    def __post_init__(self) -> None:
        for key in ("threads", "ctx", "slots", "poll"):  # jinja is a bool
            value = getattr(self, key)
            if not isinstance(value, int) or value < (1 if key in ("ctx", "slots") else 0):
                raise ConfigError(
                    f"embedded option {key} must be a positive integer, got {value!r}"
                )
        if self.poll > 100:
            raise ConfigError(f"embedded option poll must be 0-100, got {self.poll}")

    @property
    def n_threads(self) -> int:
        return self.threads or default_threads()


def _load_server(path: Path, options: EmbeddedOptions) -> Any:
    key = (str(path), options)  # threads=0 stays 0: one load, whatever the load average
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
        threads = options.n_threads
        for cpu in (params.cpuparams, params.cpuparams_batch):
            cpu.n_threads = threads
            cpu.poll = options.poll
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
        entry = models.REGISTRY.get(model) or models.local_entries().get(model)
        # any other .gguf file states its parameters in its header
        self.active_params = entry.params if entry else active_params_for(str(self.path))
        self._server = _load_server(self.path, self.options)
        self.max_n = self.options.slots  # llama.cpp runs one sample per slot
        self.activity = Activity()

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible HTTP address llama.cpp listens on (loopback)."""
        return f"{self._server.listening_address}/v1"

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        check_n(n)
        if self.max_n and n > self.max_n:
            return await in_requests_of(self.max_n, self.generate, messages, params, n)
        body = chat_body(messages, params, n)
        body["logprobs"] = True
        start = time.perf_counter()
        data = await self._cancellable(body)
        latency = time.perf_counter() - start
        return samples_from_response(data, params, latency, self.model)

    async def continue_text(
        self,
        messages: Sequence[Message],
        prefix: str,
        params: SamplingParams,
        prefix_ids: Sequence[int] | None = None,
    ) -> Sample:
        """The assistant's reply to ``messages`` continued from ``prefix`` (the new part
        only), joined on ``prefix_ids`` when given; see the module docstring."""
        prompt: Any = await asyncio.to_thread(self._render, messages)
        prompt = [prompt, *prefix_ids] if prefix_ids else prompt + prefix
        body: dict[str, Any] = {
            "prompt": prompt,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "logprobs": 1,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        start = time.perf_counter()
        data = await self._cancellable(body, completion=True)
        latency = time.perf_counter() - start
        _drop_end_token(data)
        return samples_from_response(data, params, latency, self.model)[0]

    def _render(self, messages: Sequence[Message]) -> str:
        """The prompt a chat request with these messages gets, up to the assistant's turn."""
        body = {"messages": [m.to_dict() for m in messages]}
        try:
            reply = httpx.post(f"{self._server.listening_address}/apply-template", json=body)
            reply.raise_for_status()
            return str(reply.json()["prompt"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise BackendError(f"the embedded model could not render the prompt: {exc}") from exc

    async def _cancellable(self, body: dict[str, Any], completion: bool = False) -> dict[str, Any]:
        """Run one request (a chat, or with ``completion`` a raw-prompt completion)
        streamed inside llama.cpp; cancelling the awaiting task stops it at the next
        token (the stream callback tells llama.cpp to stop)."""
        stop = threading.Event()
        try:
            return await asyncio.to_thread(self._collect, body, stop, completion)
        except asyncio.CancelledError:
            stop.set()
            raise

    def _collect(
        self, body: dict[str, Any], stop: threading.Event, completion: bool = False
    ) -> dict[str, Any]:
        merged = Merged()
        handle = (
            self._server.handle_completions if completion else self._server.handle_chat_completions
        )

        def push(chunk: Any) -> bool:
            merged.add(chunk)
            self.activity.chunk()
            return stop.is_set()  # a truthy return tells llama.cpp to stop

        stream = dict(body, stream=True, stream_options={"include_usage": True})
        try:
            with self.activity.running():
                handle(stream, push)
        except ValueError as exc:
            raise ConfigError(f"the embedded model rejected the request: {exc}") from exc
        except Exception as exc:
            raise BackendError(f"the embedded model failed: {exc}") from exc
        if stop.is_set():
            raise BackendError("the embedded request was cancelled")
        return merged.response()

    def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with self.activity.running():
                data = self._server.handle_chat_completions(body)
        except ValueError as exc:
            raise ConfigError(f"the embedded model rejected the request: {exc}") from exc
        except Exception as exc:
            raise BackendError(f"the embedded model failed: {exc}") from exc
        if not isinstance(data, dict) or "error" in data:
            raise BackendError(f"the embedded model failed: {data!r:.200}")
        tokens = int((data.get("usage") or {}).get("completion_tokens") or 0)
        self.activity.chunk(tokens * max(1, len(data.get("choices") or [])))  # about
        return data

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """A pass-through request. Without tools it streams inside llama.cpp like
        ``generate``, so a client that hangs up stops it; with tools (whose deltas this
        merge does not rebuild) it runs to the end."""
        if body.get("tools"):
            data = await asyncio.to_thread(self._call, dict(body, stream=False))
        else:
            data = await self._cancellable(dict(body, logprobs=True))
            data["created"] = int(time.time())
            _count_every_choice(data)
            if not body.get("logprobs"):
                for choice in data["choices"]:
                    choice["logprobs"] = None
        data["model"] = body.get("model", self.model)
        return data

    async def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """A streamed pass-through request. Its token logprobs are always asked for, so
        the usage chunk counts every choice's tokens (``StreamCount``); they reach the
        client only when it asked for them."""
        count = StreamCount(bool(body.get("logprobs")))
        async for chunk in self._stream(dict(body, logprobs=True)):
            yield count.seen(chunk)

    async def _stream(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        done = object()

        stop = threading.Event()

        def push(chunk: Any) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, chunk)
            self.activity.chunk()
            return stop.is_set()  # a truthy return tells llama.cpp to stop streaming

        def run() -> None:
            try:
                with self.activity.running():
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
            stop.set()  # the consumer left early (closed, cancelled): free the slot
            await asyncio.shield(task)


class StreamCount:
    """Counts each streamed choice's tokens by its token logprobs and puts the sum in
    the usage chunk when n > 1 (llama.cpp's counts one choice); drops the logprobs
    from the chunks unless the client asked (``keep``)."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.tokens: dict[int, int] = {}

    def seen(self, chunk: dict[str, Any]) -> dict[str, Any]:
        choices = []
        for choice in chunk.get("choices") or []:
            content = (choice.get("logprobs") or {}).get("content") or []
            index = int(choice.get("index") or 0)
            self.tokens[index] = self.tokens.get(index, 0) + len(content)
            choices.append(choice if self.keep else dict(choice, logprobs=None))
        out = dict(chunk, choices=choices) if "choices" in chunk else dict(chunk)
        usage = chunk.get("usage")
        if usage and len(self.tokens) > 1:
            completion = sum(self.tokens.values())
            prompt = int(usage.get("prompt_tokens") or 0)
            out["usage"] = dict(
                usage, completion_tokens=completion, total_tokens=prompt + completion
            )
        return out


def _count_every_choice(data: dict[str, Any]) -> None:
    """Usage over every choice: llama.cpp's counts one choice's tokens when n > 1, so a
    pass-through ``n=3`` reported a third of what it generated. Each choice's tokens are
    its token logprobs, which ``chat_raw`` always asks for."""
    choices = data.get("choices") or []
    if len(choices) < 2:
        return
    usage = data.setdefault("usage", {})
    completion = sum(len((c.get("logprobs") or {}).get("content") or []) for c in choices)
    usage["completion_tokens"] = completion
    usage["total_tokens"] = int(usage.get("prompt_tokens") or 0) + completion


def _drop_end_token(data: dict[str, Any]) -> None:
    """A raw completion lists the end-of-generation token (empty text) among its token
    logprobs, a chat completion does not: drop it, so a continued sample counts its
    tokens as a single chat draw would."""
    for choice in data.get("choices") or []:
        content = (choice.get("logprobs") or {}).get("content") or []
        if choice.get("finish_reason") == "stop" and content and content[-1].get("token") == "":
            content.pop()
