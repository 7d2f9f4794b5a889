"""``ponder serve``'s app on loopback backed by the real embedded model, driven by the
official ``openai`` SDK. ``llama`` is the same model reached through llama.cpp's own
HTTP server, so pass-through streaming is also checked against a real upstream."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from ponder.backends.base import Backend
from ponder.backends.embedded import EmbeddedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import serving

pytestmark = [pytest.mark.server, pytest.mark.model]
SPEC = "embedded:smollm2-135m?threads=2&slots=8&ctx=1024"  # as tests/conftest.py: one load
KEY = "sk-e2e"
ASK = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def client(embedded: Backend) -> Iterator[openai.OpenAI]:
    base_url = embedded.base_url  # type: ignore[attr-defined]
    models = {"smollm2-135m": SPEC, "llama": f"openai:{base_url}#smollm2-135m?retries=0"}
    app = create_app(ServerConfig(models=models, api_keys=(KEY,), timeout_s=120))
    with serving(app) as url:
        wait_ready(url)
        with openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0) as c:
            yield c


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while httpx.get(f"{url}/ready").status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(httpx.get(f"{url}/ready").text)
        time.sleep(0.05)


def test_chat(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="smollm2-135m", messages=ASK, max_tokens=16, temperature=0
    )
    assert "paris" in (response.choices[0].message.content or "").lower()
    assert response.model == "smollm2-135m"
    assert response.usage is not None and response.usage.completion_tokens > 0


def test_n_returns_n_choices(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="smollm2-135m", messages=ASK, max_tokens=8, n=2, temperature=1.0, seed=1
    )
    assert [c.index for c in response.choices] == [0, 1]


@pytest.mark.parametrize(
    "model",
    ["llama", "smollm2-135m"],
)
def test_stream_with_usage(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model,
        messages=ASK,
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) >= 3  # tokens arrived one by one, not as one final chunk
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0


def test_strategy_via_model_prefix(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="sc/smollm2-135m",
        messages=[{"role": "user", "content": "What is 2 + 3?"}],
        max_tokens=24,
        extra_body={"ponder": {"n": 2}},
    )
    ext = response.model_extra["ponder"]  # type: ignore[index]
    assert ext["strategy"] == "sc" and ext["samples"] == 2
    assert response.usage is not None
    assert response.usage.completion_tokens >= 2 and response.usage.prompt_tokens > 0


def test_strategy_via_extra_body_streams_the_answer(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="smollm2-135m",
        messages=ASK,
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ponder": {"strategy": "direct"}},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    assert chunks[-2].model_extra["ponder"]["strategy"] == "direct"  # type: ignore[index]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_errors_through_the_sdk(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope/smollm2-135m", messages=ASK)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smollm2-135m", messages=ASK, n=0)
    unauthorised = client.with_options(api_key="wrong")
    with pytest.raises(openai.AuthenticationError):
        unauthorised.chat.completions.create(model="smollm2-135m", messages=ASK)


LONG = 8 * 900  # tokens the abandoned request asks for


@pytest.fixture(scope="module")
def watched(embedded: Backend) -> Iterator[tuple[str, EmbeddedBackend]]:
    """A proxy over the very backend object whose llama.cpp activity the test reads."""
    if not isinstance(embedded, EmbeddedBackend):
        pytest.skip("needs the embedded backend")
    app = create_app(ServerConfig(models={"smollm2-135m": embedded}, timeout_s=300))
    with serving(app) as url:
        wait_ready(url)
        yield url, embedded


@pytest.mark.parametrize(
    "body",
    [
        {"model": "sc/smollm2-135m", "ponder": {"n": 8}},  # a strategy
        {"model": "sc/smollm2-135m", "ponder": {"n": 8}, "stream": True},  # a strategy stream
        {"model": "smollm2-135m", "n": 8},  # pass-through, not streamed
        {"model": "smollm2-135m", "n": 8, "stream": True},  # pass-through, streamed
    ],
    ids=["strategy", "strategy-stream", "pass-through", "stream"],
)
def test_a_client_that_hangs_up_stops_the_embedded_work(
    watched: tuple[str, EmbeddedBackend], body: dict[str, object]
) -> None:
    url, backend = watched
    story = [{"role": "user", "content": "Write a very long story about a dragon, in chapters."}]
    long = {**body, "messages": story, "max_tokens": 900, "temperature": 1.0}
    before = backend.activity.chunks
    try:
        with httpx.stream("POST", f"{url}/v1/chat/completions", json=long, timeout=1.0) as r:
            for _ in r.iter_bytes():
                break  # the first bytes of a stream: now hang up
    except httpx.TimeoutException:
        pass  # no answer within a second: hang up
    deadline = time.monotonic() + 300  # generous: the machine may be loaded
    while backend.activity.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert backend.activity.requests == 0
    # llama.cpp stopped well short of the 8 x 900 tokens nobody would read
    assert backend.activity.chunks - before < LONG // 2
