"""The proxy's routes in process (httpx over ASGI) with deterministic backends."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest

from ponder.backends.base import BaseBackend
from ponder.backends.scripted import ScriptedBackend
from ponder.errors import ConfigError
from ponder.server import ServerConfig, create_app, model_table
from ponder.types import Message, Sample, SamplingParams

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
SCRIPT = {QUESTION: ["6*7 = 42. Answer: 42", "Answer: 42", "Answer: 41"]}


class Gate(BaseBackend):
    """Blocks every call until released; records calls that were cancelled."""

    name = "gate"
    model = "gate"

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancelled = 0
        self.started = 0

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        self.started += 1
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return [Sample(text="Answer: 1", request_id="r", prompt_tokens=1, completion_tokens=2)]


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
async def make_client(gate: Gate) -> AsyncIterator[Any]:
    stack: list[Any] = []

    async def make(**options: Any) -> httpx.AsyncClient:
        models = {"fake": ScriptedBackend(SCRIPT, model="fake"), "gate": gate}
        app = create_app(ServerConfig(models=models, **options))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        stack.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


def chat(model: str = "fake", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": QUESTION}], **extra}


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code is not None:
        assert error["code"] == code
    return error


async def test_pass_through_answers_as_the_backend(make_client: Any) -> None:
    client = await make_client()
    body = chat(n=2, temperature=1.0, max_tokens=64)  # without it, n=2 counts as 2 x the cap
    response = await client.post("/v1/chat/completions", json=body)
    data = response.json()
    assert response.status_code == 200
    assert data["model"] == "fake"
    assert [c["message"]["content"] for c in data["choices"]] == [
        "6*7 = 42. Answer: 42",
        "Answer: 42",
    ]
    assert "ponder" not in data
    assert response.headers["x-request-id"]


async def test_strategy_from_model_prefix_reports_votes_and_usage(make_client: Any) -> None:
    client = await make_client()
    body = chat("sc:n=3,temperature=0.7/fake", max_tokens=32)
    data = (await client.post("/v1/chat/completions", json=body)).json()
    ext = data["ponder"]
    assert data["model"] == "sc:n=3,temperature=0.7/fake"
    assert ext["strategy"] == "sc" and ext["answer"] == "42"
    assert ext["votes"] == {"42": 2.0, "41": 1.0}
    assert ext["samples"] == 3 and ext["requests"] >= 1
    usage = data["usage"]
    assert usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_strategy_from_extra_body_and_n_choices(make_client: Any) -> None:
    client = await make_client()
    body = chat(n=2, ponder={"strategy": "sc", "n": 3, "early_stop": False}, user="u1")
    data = (await client.post("/v1/chat/completions", json=body)).json()
    assert len(data["choices"]) == 2
    assert data["ponder"]["samples"] == 6
    assert data["ponder"]["ignored"] == ["user"]


async def test_ponder_n_alone_means_self_consistency(make_client: Any) -> None:
    client = await make_client()
    data = (await client.post("/v1/chat/completions", json=chat(ponder={"n": 3}))).json()
    assert data["ponder"]["strategy"] == "sc" and data["ponder"]["samples"] == 3


async def test_strategy_stream_sends_answer_then_usage_then_done(make_client: Any) -> None:
    client = await make_client()
    body = chat("sc/fake", stream=True, stream_options={"include_usage": True}, ponder={"n": 3})
    response = await client.post("/v1/chat/completions", json=body)
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 0
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1])
    assert "42" in text
    assert chunks[-2]["ponder"]["answer"] == "42"


async def test_pass_through_stream_with_usage(make_client: Any) -> None:
    client = await make_client()
    body = chat(stream=True, stream_options={"include_usage": True})
    response = await client.post("/v1/chat/completions", json=body)
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    chunks = [json.loads(e) for e in events[:-1]]
    assert events[-1] == "[DONE]"
    assert len(chunks) > 3 and all(c["model"] == "fake" for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] > 0


async def test_legacy_completions(make_client: Any) -> None:
    client = await make_client()
    body = {"model": "fake", "prompt": [QUESTION, "other"], "max_tokens": 8}
    data = (await client.post("/v1/completions", json=body)).json()
    assert data["object"] == "text_completion"
    assert [c["index"] for c in data["choices"]] == [0, 1]
    assert data["choices"][0]["text"] == "6*7 = 42. Answer: 42"
    data = (await client.post("/v1/completions", json={**body, "model": "sc/fake"})).json()
    assert data["ponder"]["strategy"] == "sc"
    stream = await client.post("/v1/completions", json={**body, "prompt": QUESTION, "stream": True})
    assert '"text_completion"' in stream.text and stream.text.endswith("data: [DONE]\n\n")
    assert_error(await client.post("/v1/completions", json={**body, "echo": True}), 400)


@pytest.mark.parametrize(
    "body",
    [
        {"model": "fake"},
        {"model": "fake", "messages": []},
        {"model": "fake", "messages": [{"role": "wizard", "content": "x"}]},
        chat(n="2"),
        chat(n=0),
        chat(temperature=9),
        chat(stream="yes"),
        chat(ponder={"strategy": "sc", "bogus": 1}),
        [1, 2],
    ],
)
async def test_malformed_bodies_are_400_not_422(make_client: Any, body: Any) -> None:
    client = await make_client()
    assert_error(await client.post("/v1/chat/completions", json=body), 400)


async def test_bad_json_unknown_strategy_and_tools_with_strategy(make_client: Any) -> None:
    client = await make_client()
    assert_error(await client.post("/v1/chat/completions", content=b"{nope"), 400)
    body = chat(ponder={"strategy": "nonesuch"})
    assert_error(await client.post("/v1/chat/completions", json=body), 400)
    body = chat("sc/fake", tools=[{"type": "function", "function": {"name": "f"}}])
    assert (
        assert_error(await client.post("/v1/chat/completions", json=body), 400)["param"] == "tools"
    )
    body = chat(ponder={"strategy": "direct", "n": 4})
    assert "n" in assert_error(await client.post("/v1/chat/completions", json=body), 400)["message"]


async def test_unknown_model_is_404(make_client: Any) -> None:
    client = await make_client()
    for model in ("nope", "sc/nope", "nope/fake"):
        response = await client.post("/v1/chat/completions", json=chat(model))
        assert_error(response, 404, "model_not_found")


async def test_api_keys(make_client: Any) -> None:
    client = await make_client(api_keys=("k1", "k2"))
    assert_error(await client.post("/v1/chat/completions", json=chat()), 401, "invalid_api_key")
    wrong = {"Authorization": "Bearer nope"}
    assert_error(await client.get("/v1/models", headers=wrong), 401)
    ok = await client.get("/v1/models", headers={"Authorization": "Bearer k2"})
    assert ok.status_code == 200 and "sc/fake" in [m["id"] for m in ok.json()["data"]]
    assert (await client.get("/health")).status_code == 200


async def test_over_the_limit_is_429_with_retry_after(make_client: Any, gate: Gate) -> None:
    client = await make_client(max_concurrency=1, max_queue=1)
    first = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat("gate")))
    second = asyncio.ensure_future(client.post("/v1/chat/completions", json=chat("gate")))
    while gate.started < 1:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    third = await client.post("/v1/chat/completions", json=chat("gate"))
    assert_error(third, 429, "rate_limit_exceeded")
    assert third.headers["retry-after"] == "1"
    gate.release.set()
    assert (await first).status_code == 200 and (await second).status_code == 200


async def test_backend_failure_is_502_and_timeout_is_504(make_client: Any, gate: Gate) -> None:
    client = await make_client(timeout_s=0.2)
    response = await client.post("/v1/chat/completions", json=chat("gate"))
    assert_error(response, 504)
    assert gate.cancelled == 1
    failing = ScriptedBackend(SCRIPT, fail_first=5)
    app = create_app(ServerConfig(models={"fake": failing}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            error = assert_error(await other.post("/v1/chat/completions", json=chat()), 502)
            assert error["code"] == "upstream_unavailable"  # the details go to the log only


async def test_request_id_is_echoed_and_metrics_are_bounded(make_client: Any) -> None:
    client = await make_client()
    response = await client.post(
        "/v1/chat/completions", json=chat("sc/fake"), headers={"x-request-id": "abc-123"}
    )
    assert response.headers["x-request-id"] == "abc-123"
    for i in range(3):
        await client.post("/v1/chat/completions", json=chat(f"junk{i}"))
    await client.get(f"/no/such/path/{i}")
    metrics = (await client.get("/metrics")).text
    assert 'ponder_samples_total{model="fake",strategy="sc"}' in metrics
    assert "junk" not in metrics and "/no/such" not in metrics
    assert 'ponder_requests_total{endpoint="/v1/chat/completions",model="other"' in metrics
    assert "ponder_request_seconds_bucket" in metrics


async def test_health_and_ready(make_client: Any) -> None:
    client = await make_client()
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["models"] == {"fake": "ok", "gate": "ok"}


async def test_ready_is_503_when_a_backend_cannot_load() -> None:
    app = create_app(ServerConfig(models={"x": "scripted:/no/such/file.json"}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await asyncio.sleep(0.1)
            response = await client.get("/ready")
            assert response.status_code == 503 and response.json()["models"]["x"] == "unavailable"
            assert_error(await client.post("/v1/chat/completions", json=chat("x")), 503)


def test_model_ids_from_specs() -> None:
    table = model_table(
        [
            "embedded:smollm2-135m?threads=2",
            "openai:http://h:1/v1#gpt-4o-mini",
            "fast=scripted:a.json",
        ]
    )
    assert list(table) == ["smollm2-135m", "gpt-4o-mini", "fast"]
    assert table["smollm2-135m"] == "embedded:smollm2-135m?threads=2"
    with pytest.raises(ConfigError):
        model_table(["smollm2-135m", "embedded:smollm2-135m"])
    with pytest.raises(ConfigError):
        model_table(["openai:http://h:1/v1"])


async def test_client_disconnect_cancels_the_work(gate: Gate) -> None:
    app = create_app(ServerConfig(models={"gate": gate}))
    body = json.dumps(chat("gate")).encode()
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        while gate.started == 0:
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/chat/completions",
        "raw_path": b"",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(app(scope, receive, send), 5)
    assert gate.cancelled == 1
    assert sent[0]["status"] == 499
