"""The OpenAI-compatible backend, against llama.cpp's real server on loopback and
against a scripted upstream on loopback (an aiohttp app per test)."""

from __future__ import annotations

import asyncio
import gc
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from ponder import make_strategy
from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.backends.http import OpenAIOptions, env_proxy
from ponder.backends.openai import OpenAIBackend
from ponder.errors import (
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
    UpstreamError,
)
from ponder.types import Message, SamplingParams

PARAMS = SamplingParams(temperature=0.8, max_tokens=8)
Q = [Message("user", "Name a colour.")]
FAST = OpenAIOptions(retries=2, backoff_s=0.01)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Fake = Callable[..., Awaitable[OpenAIBackend]]


def completion(n: int, text: str = "Answer: 7", tokens: int = 3) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            for i in range(n)
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": tokens * n},
    }


def answer(data: dict[str, Any], status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(data, status=status)

    return handler


async def start_upstream(handler: Handler, port: int | None = None) -> TestServer:
    app = web.Application()
    app.router.add_route("*", "/{path:.*}", handler)
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    return server


@pytest.fixture
async def fake() -> AsyncIterator[Fake]:
    """``await fake(handler)``: an upstream on loopback and a backend pointed at it."""
    servers: list[TestServer] = []
    backends: list[OpenAIBackend] = []

    async def make(
        handler: Handler, model: str | None = "m", options: OpenAIOptions = FAST
    ) -> OpenAIBackend:
        servers.append(await start_upstream(handler))
        backends.append(OpenAIBackend(str(servers[-1].make_url("/v1")), model, options))
        return backends[-1]

    yield make
    for backend in backends:
        await backend.aclose()
    for server in servers:
        await server.close()


@pytest.mark.model
@pytest.mark.server
async def test_real_loopback_server_with_n(embedded: Backend) -> None:
    backend = load_backend(f"openai:{embedded.base_url}#smollm2", cache=False)  # type: ignore[attr-defined]
    samples = await backend.generate(Q, PARAMS, 3)
    assert len(samples) == 3 and backend.supports_n
    assert len({s.request_id for s in samples}) == 1
    assert all(s.completion_tokens == len(s.token_logprobs or []) for s in samples)
    result = await make_strategy("direct:max_tokens=16").solve(
        "What is the capital of France?", backend
    )
    assert "paris" in result.text.lower()
    await backend.aclose()  # type: ignore[attr-defined]


async def test_model_is_discovered_when_not_named(fake: Fake) -> None:
    sent: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/models"):
            return web.json_response({"data": [{"id": "served-model"}]})
        sent.append((await request.json())["model"])
        return web.json_response(completion(1))

    backend = await fake(handler, model=None)
    samples = await backend.generate(Q, PARAMS, 1)
    assert backend.model == "served-model" and samples[0].model == "served-model"
    assert sent == ["served-model"]


async def test_server_that_ignores_n_gets_concurrent_requests(fake: Fake) -> None:
    bodies: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return web.json_response(completion(1))  # like Ollama: one choice, always

    backend = await fake(handler)
    samples = await backend.generate(Q, PARAMS, 4)
    assert len(samples) == 4 and not backend.supports_n
    assert len(bodies) == 4 and bodies[0]["n"] == 4
    samples = await backend.generate(Q, PARAMS, 3)
    assert len(samples) == 3
    assert all(b["n"] == 1 for b in bodies[1:])  # later calls skip the n request


def capped(bodies: list[dict[str, Any]], cap: int = 4) -> Handler:
    """An upstream that refuses more than ``cap`` choices a request, as llama.cpp's server
    refuses more than its slots."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        bodies.append(body)
        if body.get("n", 1) > cap:
            error = {"error": {"message": f"n must be <= {cap}", "type": "invalid_request_error"}}
            return web.json_response(error, status=400)
        return web.json_response(completion(body.get("n", 1)))

    return handler


async def test_a_server_that_caps_n_gets_several_requests_within_max_n(fake: Fake) -> None:
    bodies: list[dict[str, Any]] = []
    plain = await fake(capped(bodies))
    with pytest.raises(UpstreamError, match="n must be <= 4"):
        await plain.generate(Q, PARAMS, 10)
    bodies.clear()
    backend = await fake(capped(bodies), options=replace(FAST, max_n=4))
    assert backend.max_n == 4
    samples = await backend.generate(Q, replace(PARAMS, seed=7), 10)
    assert len(samples) == 10 and backend.supports_n
    assert sorted(b["n"] for b in bodies) == [2, 4, 4]
    assert sorted(b["seed"] for b in bodies) == [7, 11, 15]  # no request repeats another


async def test_usage_sums_every_choice(fake: Fake) -> None:
    backend = await fake(answer(completion(4, tokens=5)))
    samples = await backend.generate(Q, PARAMS, 4)
    assert sum(s.completion_tokens for s in samples) == 20
    assert sum(s.prompt_tokens for s in samples[:1]) == 5


async def test_retries_honour_retry_after(fake: Fake) -> None:
    calls: list[float] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(time.perf_counter())
        if len(calls) == 1:
            return web.json_response(
                {"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "0.2"}
            )
        if len(calls) == 2:
            return web.Response(status=503, text="busy")
        return web.json_response(completion(1))

    samples = await (await fake(handler)).generate(Q, PARAMS, 1)
    assert len(calls) == 3 and samples[0].text == "Answer: 7"
    assert calls[1] - calls[0] >= 0.2 > calls[2] - calls[1]  # Retry-After, then backoff


async def test_client_errors_are_not_retried_and_keep_the_message(fake: Fake) -> None:
    calls: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(1)
        return web.json_response({"error": {"message": "max_tokens too large"}}, status=400)

    with pytest.raises(UpstreamError, match="max_tokens too large") as info:
        await (await fake(handler)).generate(Q, PARAMS, 1)
    assert info.value.status_code == 400 and len(calls) == 1


async def test_persistent_5xx_gives_upstream_error(fake: Fake) -> None:
    calls: list[int] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        calls.append(1)
        return web.Response(status=502, text="bad gateway")

    with pytest.raises(UpstreamError, match="upstream 502: bad gateway"):
        await (await fake(handler, options=replace(FAST, retry="all"))).generate(Q, PARAMS, 1)
    assert len(calls) == 3
    calls.clear()  # by default a 502 may hide a generation that ran: not retried
    with pytest.raises(UpstreamError, match="upstream 502: bad gateway"):
        await (await fake(handler)).generate(Q, PARAMS, 1)
    assert len(calls) == 1


async def test_timeouts_and_refused_connections(fake: Fake) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response(completion(1))

    backend = await fake(slow, options=OpenAIOptions(retries=1, backoff_s=0.01, timeout_s=0.1))
    with pytest.raises(BackendTimeoutError, match="did not answer"):
        await backend.generate(Q, PARAMS, 1)
    release.set()
    refused = OpenAIBackend("http://127.0.0.1:9/v1", "m", OpenAIOptions(retries=0))
    with pytest.raises(BackendUnavailableError, match="cannot reach"):
        await refused.generate(Q, PARAMS, 1)
    await refused.aclose()


async def test_api_key_from_environment(fake: Fake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    seen: list[str] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response(completion(1))

    backend = await fake(handler, options=OpenAIOptions(api_key_env="MY_KEY"))
    await backend.generate(Q, PARAMS, 1)
    assert seen == ["Bearer sk-test"]


async def test_chat_raw_forwards_the_body_with_the_model(fake: Fake) -> None:
    bodies: list[dict[str, Any]] = []

    async def handler(request: web.Request) -> web.StreamResponse:
        bodies.append(await request.json())
        return web.json_response(completion(2))

    backend = await fake(handler)
    response = await backend.chat_raw({"model": "alias", "messages": [], "n": 2, "top_k": 3})
    assert len(response["choices"]) == 2
    assert bodies == [{"model": "m", "messages": [], "n": 2, "top_k": 3}]


def sse_handler(events: list[str], after: Callable[[], Awaitable[None]]) -> Handler:
    """Streams two events split across writes, then ``after()`` between further events;
    ``events`` records ``disconnect`` when the client hangs up."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            await response.write(b'data: {"i": 0}\n\ndata: {"i"')
            await response.write(b": 1}\r\n\r\n: a comment\n\n")
            for i in range(2, 50):
                await after()
                await response.write(f'data: {{"i": {i}}}\n\n'.encode())
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):  # aiohttp cancels on hang-up
            events.append("disconnect")
            raise
        return response

    return handler


async def wait_for(events: list[str]) -> None:
    for _ in range(200):
        if events:
            return
        await asyncio.sleep(0.01)


async def test_stream_parses_events_until_done(fake: Fake) -> None:
    backend = await fake(sse_handler([], lambda: asyncio.sleep(0)))
    chunks = [chunk async for chunk in backend.stream_raw({"messages": []})]
    assert [c["i"] for c in chunks] == list(range(50))


async def test_closing_the_stream_closes_the_upstream(fake: Fake) -> None:
    events: list[str] = []
    backend = await fake(sse_handler(events, lambda: asyncio.sleep(0.01)))
    stream = backend.stream_raw({"messages": []})
    assert [(await anext(stream))["i"] for _ in range(3)] == [0, 1, 2]
    await stream.aclose()  # type: ignore[attr-defined]
    await wait_for(events)
    assert events == ["disconnect"]


async def test_cancelling_a_stream_read_closes_the_upstream(fake: Fake) -> None:
    events: list[str] = []
    backend = await fake(sse_handler(events, lambda: asyncio.sleep(0.3)))
    stream = backend.stream_raw({"messages": []})
    assert (await anext(stream))["i"] == 0 and (await anext(stream))["i"] == 1
    reading = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.05)
    reading.cancel()  # what the proxy does when its client disconnects
    with pytest.raises(asyncio.CancelledError):
        await reading
    await wait_for(events)
    assert events == ["disconnect"]


async def test_stream_errors_carry_the_upstream_message(fake: Fake) -> None:
    backend = await fake(answer({"error": {"message": "no such model"}}, status=404))
    with pytest.raises(UpstreamError, match="no such model") as info:
        await anext(backend.stream_raw({"messages": []}))
    assert info.value.status_code == 404


def test_a_backend_outlives_its_event_loops_without_leaking() -> None:
    """``ponder.ask`` runs a loop per call over a cached backend it never closes."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", "m", FAST)

    async def ask() -> dict[str, Any]:
        server = await start_upstream(answer(completion(1)), port)
        try:
            return await backend.chat_raw({"messages": []})
        finally:
            await server.close()

    for _ in range(2):
        assert asyncio.run(ask())["choices"]
    gc.collect()  # an unclosed session would warn here, an error under filterwarnings


def test_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert env_proxy("http://10.0.0.1:8000/v1") is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.test:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert env_proxy("http://10.0.0.1:8000/v1") == "http://proxy.test:3128"
    assert env_proxy("http://127.0.0.1:8000/v1") is None
    assert env_proxy("https://api.openai.com/v1") is None


def test_spec_options() -> None:
    backend = load_backend(
        "openai:http://127.0.0.1:8000/v1#qwen?concurrency=3&timeout=5", cache=False
    )
    assert isinstance(backend, OpenAIBackend)
    assert backend.model == "qwen" and backend.options.concurrency == 3
    assert backend.options.timeout_s == 5
    assert backend.max_n is None
    capped_spec = "openai:http://127.0.0.1:8000/v1#qwen?max_n=8"
    assert load_backend(capped_spec, cache=False).max_n == 8
    with pytest.raises(ConfigError, match="max_n"):
        load_backend("openai:http://127.0.0.1:8000/v1#qwen?max_n=-1", cache=False)
