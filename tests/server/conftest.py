"""Servers on loopback for the proxy's tests: a uvicorn thread per app, and a
recording fake OpenAI upstream that answers canned responses and streams."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Run an ASGI app on 127.0.0.1 in a thread; yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class Upstream:
    """What the fake upstream received; ``disconnects`` counts streams cut by the client."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.disconnects = 0


def fake_response(body: dict[str, Any]) -> dict[str, Any]:
    wants_tool = bool(body.get("tools"))
    choices = []
    for i in range(int(body.get("n") or 1)):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": None if wants_tool else f"ok {i}",
        }
        if wants_tool:
            message["tool_calls"] = [TOOL_CALL]
        choices.append(
            {
                "index": i,
                "message": message,
                "logprobs": {"content": [{"token": "ok", "logprob": -0.1, "top_logprobs": []}]}
                if body.get("logprobs")
                else None,
                "finish_reason": "tool_calls" if wants_tool else "stop",
            }
        )
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": body.get("model"),
        "system_fingerprint": "fp_fake",
        "choices": choices,
        "usage": {
            "prompt_tokens": 7,
            "completion_tokens": 2 * len(choices),
            "total_tokens": 7 + 2 * len(choices),
        },
    }


def fake_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    head = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if body.get("tools"):
        deltas.append({"tool_calls": [{"index": 0, **TOOL_CALL}]})
    else:
        deltas += [{"content": word} for word in ("one", " two", " three")]
    chunks = [
        {**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    finish = "tool_calls" if body.get("tools") else "stop"
    chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
        chunks.append({**head, "choices": [], "usage": usage})
    return chunks


def fake_upstream(record: Upstream) -> FastAPI:
    """Model ``fake`` answers at once; ``slow`` waits 0.6 s; ``drip`` streams forever."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        record.bodies.append(body)
        if body.get("model") == "slow":
            await asyncio.sleep(0.6)
        if body.get("model") == "bad":
            return JSONResponse({"error": {"message": "upstream exploded"}}, status_code=500)
        if body.get("model") == "drip":
            return StreamingResponse(_drip(request, record), media_type="text/event-stream")
        if body.get("stream"):
            events = "".join(f"data: {json.dumps(c)}\n\n" for c in fake_chunks(body))
            return Response(events + "data: [DONE]\n\n", media_type="text/event-stream")
        return JSONResponse(fake_response(body))

    return app


async def _drip(request: Request, record: Upstream) -> Any:
    head = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "drip"}
    delta = {"index": 0, "delta": {"content": "."}, "finish_reason": None}
    try:
        for _ in range(400):
            yield f"data: {json.dumps({**head, 'choices': [delta]})}\n\n"
            await asyncio.sleep(0.05)
    except (asyncio.CancelledError, GeneratorExit):
        record.disconnects += 1
        raise


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, Upstream]]:
    record = Upstream()
    with serving(fake_upstream(record)) as url:
        yield f"{url}/v1", record
