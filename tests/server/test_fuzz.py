"""Fuzz the request schema: no body, however malformed, gets a 500 or a non-OpenAI error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app

pytestmark = pytest.mark.server

scalars = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "model",
    "messages",
    "n",
    "stream",
    "stream_options",
    "max_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
    "tools",
    "tool_choice",
    "logprobs",
    "top_logprobs",
    "response_format",
    "ponder",
    "prompt",
    "echo",
    "suffix",
    "max_completion_tokens",
]
MODELS = st.sampled_from(["fake", "sc/fake", "direct/fake", "bon:n=2/fake", "x/fake", "fake/x"])
PONDER = st.fixed_dictionaries(
    {},
    optional={
        "strategy": st.sampled_from(["sc", "direct", "bon", "cot", "sc:n=2", "nope", ""]) | scalars,
        "n": st.integers(-3, 300) | scalars,
        "early_stop": st.sampled_from(["esc", "beta", "margin", "fixed", "bogus"]) | scalars,
        "options": st.dictionaries(st.sampled_from(["weighted", "wave", "x"]), scalars, max_size=2),
    },
)
MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool", "bad"]) | scalars},
    optional={"content": st.text(max_size=20) | json_values, "tool_calls": json_values},
)
VALID = {"model": "fake", "messages": [{"role": "user", "content": "2+2?"}], "max_tokens": 4}


@st.composite
def mutated(draw: Any) -> Any:
    """A valid body with some fields replaced by arbitrary (often wrong) values."""
    body: dict[str, Any] = dict(VALID)
    body["model"] = draw(MODELS | scalars)
    if draw(st.booleans()):
        body["messages"] = draw(st.lists(MESSAGE, max_size=3))
    if draw(st.booleans()):
        body["ponder"] = draw(PONDER | json_values)
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=4)):
        body[name] = draw(json_values)
    if draw(st.booleans()):
        body["prompt"] = draw(st.text(max_size=10) | st.lists(st.text(max_size=5), max_size=3))
    return body


bodies = mutated() | json_values


@pytest.fixture(scope="module")
def app_client() -> Any:
    loop = asyncio.new_event_loop()
    app = create_app(ServerConfig(models={"fake": ScriptedBackend(["Answer: 4"], model="fake")}))
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield loop, client
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    loop.close()


def check(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
    elif response.headers["content-type"].startswith("text/event-stream"):
        assert response.text.endswith("data: [DONE]\n\n") or '"error"' in response.text
    else:
        assert response.json()["choices"]


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=bodies, path=st.sampled_from(["/v1/chat/completions", "/v1/completions"]))
def test_no_500_on_any_json_body(app_client: Any, body: Any, path: str) -> None:
    loop, client = app_client
    content = json.dumps(body, allow_nan=True).encode()
    check(loop.run_until_complete(client.post(path, content=content)))


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_no_500_on_any_bytes(app_client: Any, raw: bytes) -> None:
    loop, client = app_client
    check(loop.run_until_complete(client.post("/v1/chat/completions", content=raw)))
