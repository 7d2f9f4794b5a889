"""Fakes for the proxy's tests: servers on loopback, a uvicorn thread per app, a
recording fake OpenAI upstream that answers canned responses and streams, and a
backend that counts the samples it is asked for."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from ponder.backends.base import BaseBackend
from ponder.types import Message, Sample, SamplingParams

TOOL_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


class Counting(BaseBackend):
    """Answers at once and counts the samples it was asked for."""

    name = model = "counting"

    def __init__(self) -> None:
        self.samples = 0

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        self.samples += n
        return [
            Sample(text="Answer: 42", request_id="r", prompt_tokens=3, completion_tokens=3)
            for _ in range(n)
        ]


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
    """What the fake upstream received (``paths``: the route of each body);
    ``disconnects`` counts streams cut by the client."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.disconnects = 0
        self.busy = 0  # calls to the model that always answers 503

    def add(self, path: str, body: dict[str, Any]) -> None:
        self.paths.append(path)
        self.bodies.append(body)


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


# What vLLM answers a prompt over the context window, in OpenAI's error shape.
REJECTION = {
    "error": {
        "message": "This model's maximum context length is 8 tokens; you asked for 12",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}


def refusal(body: dict[str, Any], record: Upstream) -> Response | None:
    """Model ``reject`` answers a 400 with OpenAI's detail; ``busy`` always a 503."""
    if body.get("model") == "reject":
        return JSONResponse(REJECTION, status_code=400)
    if body.get("model") == "busy":
        record.busy += 1
        return JSONResponse({"error": {"message": "overloaded"}}, status_code=503)
    return None


def fake_text_completion(body: dict[str, Any]) -> dict[str, Any]:
    """A ``text_completion`` as vLLM answers one: ``echo`` repeats the prompt (a token-id
    prompt as ``<ids>``), ``logprobs`` gives one entry per word, ``suffix`` is appended."""
    prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
    if prompts and isinstance(prompts[0], int):
        prompts = [prompts]
    choices = []
    for p, prompt in enumerate(prompts):
        shown = prompt if isinstance(prompt, str) else f"<{len(prompt)} ids>"
        for i in range(int(body.get("n") or 1)):
            text = (shown if body.get("echo") else "") + f" ok {i}" + (body.get("suffix") or "")
            words = text.split(" ")
            logprobs = None
            if body.get("logprobs") is not None:
                logprobs = {
                    "tokens": words,
                    "token_logprobs": [None, *(-0.5 for _ in words[1:])],
                    "top_logprobs": [None, *({w: -0.5} for w in words[1:])],
                    "text_offset": list(range(len(words))),
                }
            choices.append(
                {
                    "index": p * int(body.get("n") or 1) + i,
                    "text": text,
                    "logprobs": logprobs,
                    "finish_reason": "length",
                }
            )
    usage = {
        "prompt_tokens": 5,
        "completion_tokens": len(choices),
        "total_tokens": 5 + len(choices),
    }
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 1,
        "model": body.get("model"),
        "choices": choices,
        "usage": usage,
    }


def fake_text_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    head = {"id": "cmpl-fake", "object": "text_completion", "created": 1, "model": "m"}
    texts = ["one", " two"]
    chunks = [
        {**head, "choices": [{"index": 0, "text": t, "logprobs": None, "finish_reason": None}]}
        for t in texts
    ]
    chunks[-1]["choices"][0]["finish_reason"] = "length"
    if (body.get("stream_options") or {}).get("include_usage"):
        usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
        chunks.append({**head, "choices": [], "usage": usage})
    return chunks


def fake_upstream(record: Upstream) -> FastAPI:
    """Model ``fake`` answers at once; ``slow`` waits 0.6 s; ``drip`` streams forever."""
    app = FastAPI()

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "fake", "object": "model"}]}

    @app.post("/v1/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        record.add("/v1/completions", body)
        if (refused := refusal(body, record)) is not None:
            return refused
        if body.get("stream"):
            events = "".join(f"data: {json.dumps(c)}\n\n" for c in fake_text_chunks(body))
            return Response(events + "data: [DONE]\n\n", media_type="text/event-stream")
        return JSONResponse(fake_text_completion(body))

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        record.add("/v1/chat/completions", body)
        if (refused := refusal(body, record)) is not None:
            return refused
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
