"""What the proxy shows and spends beyond one request: caches, /ready, error text, the
routes behind the key, retries of generation, start-up checks and log lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from ponder.server.logs import HumanFormatter, JsonFormatter
from tests.server.fakes import Upstream, fake_upstream, serving

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
KEY = "sk-exposure"


def chat(model: str = "fake", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": QUESTION}], **extra}


@pytest.fixture
def counted() -> Iterator[tuple[str, Upstream, list[str]]]:
    """A fake upstream and a proxy in front of it; the upstream counts what it got."""
    record = Upstream()
    gets: list[str] = []
    upstream_app = fake_upstream(record)

    @upstream_app.middleware("http")
    async def count(request: Any, call_next: Any) -> Any:
        if request.method == "GET":
            gets.append(request.url.path)
        return await call_next(request)

    with serving(upstream_app) as up:
        models = {
            "fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake"),
            "up": f"openai:{up}/v1#fake?retries=0",
            "down": "openai:http://127.0.0.1:9/v1#fake?retries=0",
        }
        with serving(create_app(ServerConfig(models=models))) as url:
            yield url, record, gets


def test_ready_is_cached_and_says_no_more_than_ok(
    counted: tuple[str, Upstream, list[str]],
) -> None:
    url, _, gets = counted
    bodies = [httpx.get(url + "/ready", timeout=30) for _ in range(20)]
    body = bodies[-1].json()
    assert body["models"] == {"fake": "ok", "up": "ok", "down": "unavailable"}
    assert "127.0.0.1" not in bodies[-1].text
    assert 1 <= len(gets) <= 2  # a cached check, not one upstream call per /ready


def test_client_errors_do_not_show_upstream_urls(
    counted: tuple[str, Upstream, list[str]],
) -> None:
    url, _, _ = counted
    response = httpx.post(url + "/v1/chat/completions", json=chat("down"), timeout=30)
    assert response.status_code == 502, response.text
    assert "127.0.0.1" not in response.text and ":9" not in response.text
    strategy = httpx.post(url + "/v1/chat/completions", json=chat("sc/down"), timeout=30)
    assert strategy.status_code == 502 and "127.0.0.1" not in strategy.text


def test_a_model_that_failed_to_load_does_not_show_its_path() -> None:
    app = create_app(ServerConfig(models={"x": "scripted:/srv/secret/place/file.json"}))
    with serving(app) as url:
        response = httpx.post(url + "/v1/chat/completions", json=chat("x"), timeout=30)
        assert response.status_code == 503
        assert "/srv/secret" not in response.text
        assert "/srv/secret" not in httpx.get(url + "/ready").text


@pytest.mark.parametrize("path", ["/metrics", "/docs", "/openapi.json", "/redoc"])
def test_operator_routes_follow_the_key(path: str) -> None:
    models = {"fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake")}
    with serving(create_app(ServerConfig(models=models, api_keys=(KEY,)))) as url:
        assert httpx.get(url + path).status_code == 401
        authorised = httpx.get(url + path, headers={"Authorization": f"Bearer {KEY}"})
        assert authorised.status_code == 200
        assert httpx.get(url + "/health").status_code == 200
    opened = ServerConfig(models=models, api_keys=(KEY,), open_paths=("/metrics",))
    with serving(create_app(opened)) as url:
        assert httpx.get(url + "/metrics").status_code == 200
        assert httpx.get(url + "/docs").status_code == 401


def test_many_distinct_requests_keep_the_caches_bounded() -> None:
    from ponder import backends

    before = backends.cache_info()
    models = {"fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake")}
    app = create_app(ServerConfig(models=models))
    with serving(app) as url, httpx.Client(base_url=url) as client:
        for i in range(300):
            body = chat(ponder={"strategy": "sc", "n": 1 + i % 200, "options": {"wave": 1}})
            body["max_tokens"] = 16 + i
            assert client.post("/v1/chat/completions", json=body).status_code == 200
    assert backends.cache_info() == before
    assert app.state.serving.builder.cache_size <= app.state.serving.builder.size


def test_generation_dying_mid_request_is_not_retried_by_default() -> None:
    from aiohttp import web

    from ponder.backends import load_backend
    from ponder.errors import BackendUnavailableError
    from ponder.types import Message, SamplingParams

    calls: list[int] = []

    async def dying(request: web.Request) -> web.StreamResponse:
        await request.read()
        calls.append(1)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=200)

    async def run() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", dying)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            for spec, expected in (("#m", 1), ("#m?retry=all&retries=2", 3)):
                calls.clear()
                backend = load_backend(f"openai:http://127.0.0.1:{port}/v1{spec}", cache=False)
                with pytest.raises(BackendUnavailableError):
                    await backend.generate([Message("user", "hi")], SamplingParams(), 1)
                await backend.aclose()
                assert len(calls) == expected, spec
        finally:
            await runner.cleanup()

    import asyncio

    asyncio.run(run())


@pytest.mark.slow
def test_serve_fails_at_start_on_a_model_that_cannot_load() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ponder.cli.main", "serve", "--model", "scripted:/nope.json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "/nope.json" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_log_lines_are_human_in_a_terminal_and_json_without_colour_codes() -> None:
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelname": "INFO",
            "levelno": 20,
            "msg": "Started server process [%d]",
            "args": (7,),
            "color_message": "Started server process [\x1b[36m%d\x1b[0m]",
            "request_id": "abc",
        }
    )
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert "color_message" not in data and "\x1b" not in line
    assert data["msg"] == "Started server process [7]" and data["request_id"] == "abc"
    human = HumanFormatter().format(record)
    assert "Started server process [7]" in human and "request_id=abc" in human
    assert not human.startswith("{")


def test_a_strategy_stream_sends_heartbeats_while_it_decides() -> None:
    slow = ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake", latency_s=0.4)
    app = create_app(ServerConfig(models={"fake": slow}, heartbeat_s=0.05))
    with serving(app) as url:
        body = chat("sc/fake", stream=True, ponder={"n": 2})
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as r:
            assert r.status_code == 200
            lines = [line for line in r.iter_lines() if line]
    first_data = next(i for i, line in enumerate(lines) if line.startswith("data:"))
    assert first_data > 0 and all(line.startswith(":") for line in lines[:first_data])
    assert lines[-1] == "data: [DONE]"
    assert any('"answer":"42"' in line for line in lines)
