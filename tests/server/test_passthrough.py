"""Pass-through fidelity and error codes through a real server, with the official
``openai`` SDK as the client and a recording fake upstream behind the proxy."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import openai
import pytest

from ponder.server import ServerConfig, create_app
from tests.server.fakes import TOOL_CALL, Upstream, serving

pytestmark = pytest.mark.server
KEY = "sk-test"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [TOOL_CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"},
    {"role": "user", "content": "And tomorrow?"},
]


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, Upstream]) -> Iterator[str]:
    base, _ = upstream
    specs = {
        "fake": f"openai:{base}#fake?retries=0",
        "slow": f"openai:{base}#slow?retries=0&timeout=0.2",
        "bad": f"openai:{base}#bad?retries=0",
        "drip": f"openai:{base}#drip?retries=0",
        "down": "openai:http://127.0.0.1:9/v1#down?retries=0",
    }
    app = create_app(ServerConfig(models=specs, api_keys=(KEY,)))
    with serving(app) as url:
        yield url


@pytest.fixture
def client(proxy: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy}/v1", api_key=KEY, max_retries=0) as c:
        yield c


def test_tools_multi_turn_and_sampling_fields_reach_the_upstream_unchanged(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    sent: dict[str, Any] = {
        "messages": CONVERSATION,
        "tools": TOOLS,
        "tool_choice": "auto",
        "n": 2,
        "stop": ["\n\n"],
        "seed": 7,
        "logprobs": True,
        "top_logprobs": 2,
        "response_format": {"type": "text"},
        "max_tokens": 5,
    }
    response = client.chat.completions.create(model="fake", extra_body={"top_k": 3}, **sent)
    body = record.bodies[-1]
    assert {k: body[k] for k in sent} == sent
    assert body["top_k"] == 3 and body["model"] == "fake" and "ponder" not in body
    assert response.model == "fake" and len(response.choices) == 2
    call = response.choices[0].message.tool_calls[0]
    assert call.id == "call_1" and call.function.arguments == '{"city": "Paris"}'
    assert response.choices[0].finish_reason == "tool_calls"
    assert response.system_fingerprint == "fp_fake"
    assert response.usage.prompt_tokens == 7


def test_stream_passes_tool_call_chunks_and_usage(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    stream = client.chat.completions.create(
        model="fake",
        messages=CONVERSATION,
        tools=TOOLS,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert upstream[1].bodies[-1]["stream_options"] == {"include_usage": True}
    calls = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    assert calls[0][0].function.name == "get_weather"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 10
    assert all(c.model == "fake" for c in chunks)


def test_error_codes(client: openai.OpenAI, proxy: str) -> None:
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{proxy}/v1", api_key="wrong", max_retries=0).models.list()
    with pytest.raises(openai.NotFoundError) as not_found:
        client.chat.completions.create(model="gpt-5", messages=messages)
    assert not_found.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="fake", messages=[])
    with pytest.raises(openai.InternalServerError) as bad:
        client.chat.completions.create(model="bad", messages=messages)
    assert bad.value.status_code == 502 and "upstream exploded" in bad.value.message
    with pytest.raises(openai.InternalServerError) as down:
        client.chat.completions.create(model="down", messages=messages)
    assert down.value.status_code == 502
    with pytest.raises(openai.InternalServerError) as slow:
        client.chat.completions.create(model="slow", messages=messages)
    assert slow.value.status_code == 504


def test_concurrency_limit_answers_429(upstream: tuple[str, Upstream]) -> None:
    base, _ = upstream
    app = create_app(
        ServerConfig(models={"slow": f"openai:{base}#slow"}, max_concurrency=1, max_queue=0)
    )
    with (
        serving(app) as url,
        openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0) as client,
    ):

        def attempt(_: int) -> str:
            try:
                client.chat.completions.create(
                    model="slow", messages=[{"role": "user", "content": "y"}]
                )
            except openai.RateLimitError as exc:
                return f"429 retry-after={exc.response.headers['retry-after']}"
            return "200"

        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(attempt, range(4)))
    assert "200" in outcomes and "429 retry-after=1" in outcomes, outcomes


def test_client_disconnect_cancels_the_upstream_stream(
    proxy: str, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    before = record.disconnects
    body = {"model": "drip", "messages": [{"role": "user", "content": "go"}], "stream": True}
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.stream("POST", f"{proxy}/v1/chat/completions", json=body, headers=headers) as r:
        lines = r.iter_lines()
        assert next(lines).startswith("data: ")
    for _ in range(100):
        if record.disconnects > before:
            break
        threading.Event().wait(0.05)
    assert record.disconnects == before + 1
