"""The OpenAI-compatible backend, against llama.cpp's real server on loopback and
against scripted HTTP failures."""

from __future__ import annotations

import json

import httpx
import pytest

from ponder import make_strategy
from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.backends.openai import OpenAIBackend, OpenAIOptions
from ponder.errors import BackendTimeoutError, BackendUnavailableError, UpstreamError
from ponder.types import Message, SamplingParams

PARAMS = SamplingParams(temperature=0.8, max_tokens=8)
Q = [Message("user", "Name a colour.")]


def completion(n: int, text: str = "Answer: 7", tokens: int = 3) -> dict:
    return {
        "id": "cmpl-1",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": text},
             "finish_reason": "stop"}
            for i in range(n)
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": tokens * n},
    }


def fake(handler) -> OpenAIBackend:  # type: ignore[no-untyped-def]
    options = OpenAIOptions(retries=2, backoff_s=0.01)
    return OpenAIBackend("http://upstream.test/v1", "m", options, httpx.MockTransport(handler))


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


async def test_model_is_discovered_when_not_named() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"data": [{"id": "served-model"}]})
        assert json.loads(request.content)["model"] == "served-model"
        return httpx.Response(200, json=completion(1))

    backend = OpenAIBackend("http://upstream.test/v1", None,
                            transport=httpx.MockTransport(handler))
    samples = await backend.generate(Q, PARAMS, 1)
    assert backend.model == "served-model" and samples[0].model == "served-model"


async def test_server_that_ignores_n_gets_concurrent_requests() -> None:
    bodies: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json=completion(1))  # like Ollama: one choice, always

    backend = fake(handler)
    samples = await backend.generate(Q, PARAMS, 4)
    assert len(samples) == 4 and not backend.supports_n
    assert len({s.request_id for s in samples}) >= 1
    samples = await backend.generate(Q, PARAMS, 3)
    assert len(samples) == 3
    assert all(b["n"] == 1 for b in bodies[5:])  # later calls skip the n request


async def test_usage_sums_every_choice() -> None:
    backend = fake(lambda r: httpx.Response(200, json=completion(4, tokens=5)))
    samples = await backend.generate(Q, PARAMS, 4)
    assert sum(s.completion_tokens for s in samples) == 20
    assert sum(s.prompt_tokens for s in samples[:1]) == 5


async def test_retries_honour_retry_after() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(429, headers={"retry-after": "0.05"},
                                  json={"error": {"message": "slow down"}})
        if len(calls) == 2:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json=completion(1))

    samples = await fake(handler).generate(Q, PARAMS, 1)
    assert len(calls) == 3 and samples[0].text == "Answer: 7"


async def test_client_errors_are_not_retried_and_keep_the_message() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(400, json={"error": {"message": "max_tokens too large"}})

    with pytest.raises(UpstreamError, match="max_tokens too large") as info:
        await fake(handler).generate(Q, PARAMS, 1)
    assert info.value.status_code == 400 and len(calls) == 1


async def test_persistent_5xx_gives_upstream_error() -> None:
    with pytest.raises(UpstreamError, match="upstream 502"):
        await fake(lambda r: httpx.Response(502, text="bad gateway")).generate(Q, PARAMS, 1)


async def test_timeouts_and_refused_connections() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(BackendTimeoutError, match="did not answer"):
        await fake(slow).generate(Q, PARAMS, 1)
    refused = OpenAIBackend("http://127.0.0.1:9/v1", "m", OpenAIOptions(retries=0))
    with pytest.raises(BackendUnavailableError, match="cannot reach"):
        await refused.generate(Q, PARAMS, 1)
    await refused.aclose()


async def test_api_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", "sk-test")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json=completion(1))

    backend = OpenAIBackend("http://u.test/v1", "m", OpenAIOptions(api_key_env="MY_KEY"),
                            httpx.MockTransport(handler))
    await backend.generate(Q, PARAMS, 1)
    assert seen == ["Bearer sk-test"]


def test_spec_options() -> None:
    backend = load_backend("openai:http://127.0.0.1:8000/v1#qwen?concurrency=3&timeout=5",
                           cache=False)
    assert isinstance(backend, OpenAIBackend)
    assert backend.model == "qwen" and backend.options.concurrency == 3
    assert backend.options.timeout_s == 5
