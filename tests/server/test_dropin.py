"""The proxy where clients expect OpenAI's behaviour, through the ``openai`` SDK:
``models.retrieve``, every option either honoured or refused with a 400 naming it,
the upstream's own error detail, and one retry policy for streamed and plain
requests to a dead upstream."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from ponder.backends.base import BaseBackend
from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from ponder.types import Message, Sample, SamplingParams
from tests.server.fakes import Upstream, serving

pytestmark = pytest.mark.server
KEY = "sk-dropin"
QUESTION = "What is 6 times 7?"
ASK = [{"role": "user", "content": QUESTION}]


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, Upstream]) -> Iterator[str]:
    base, _ = upstream
    models: dict[str, Any] = {
        "fake": f"openai:{base}#fake?retries=0",
        "script": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="script"),
        "reject": f"openai:{base}#reject?retries=0",
        "busy": f"openai:{base}#busy?retries=2&backoff=0.01",
        "down": "openai:http://127.0.0.1:9/v1#down?retries=2&backoff=0.01",
    }
    with serving(create_app(ServerConfig(models=models, api_keys=(KEY,)))) as url:
        yield url


@pytest.fixture
def client(proxy: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy}/v1", api_key=KEY, max_retries=0) as c:
        yield c


@pytest.mark.parametrize("name", ["fake", "script", "sc/fake", "bon/script"])
def test_a_served_model_can_be_retrieved(client: openai.OpenAI, name: str) -> None:
    model = client.models.retrieve(name)
    assert model.id == name and model.object == "model" and model.owned_by == "ponder"


@pytest.mark.parametrize("name", ["gpt-5", "nope/fake", "sc/gpt-5"])
def test_an_unknown_model_is_a_404_in_openai_shape(client: openai.OpenAI, name: str) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve(name)
    assert missing.value.code == "model_not_found" and missing.value.param == "model"
    body = missing.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    assert body["type"] == "invalid_request_error"


def test_retrieving_a_model_needs_the_key(proxy: str) -> None:
    with (
        openai.OpenAI(base_url=f"{proxy}/v1", api_key="wrong", max_retries=0) as stranger,
        pytest.raises(openai.AuthenticationError),
    ):
        stranger.models.retrieve("fake")


TOOLS = [
    {
        "type": "function",
        "function": {"name": "f", "parameters": {"type": "object", "properties": {}}},
    }
]


class Reply(BaseModel):
    answer: int


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tools", TOOLS),
        ("tool_choice", "required"),
        ("logprobs", True),
        ("top_logprobs", 2),
        ("response_format", {"type": "json_object"}),
        ("logit_bias", {"1": 5}),
        ("functions", [TOOLS[0]["function"]]),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_scripted_backend_refuses_what_it_cannot_honour(
    client: openai.OpenAI, field: str, value: Any, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="script", messages=ASK, stream=stream, **{field: value}
        )
    assert refused.value.param == field, refused.value.message
    assert "script" in refused.value.message


def test_structured_output_on_the_scripted_backend_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.parse(model="script", messages=ASK, response_format=Reply)
    assert refused.value.param == "response_format"


def test_the_scripted_backend_honours_stop_and_takes_harmless_fields(client: openai.OpenAI) -> None:
    response = client.chat.completions.create(
        model="script",
        messages=ASK,
        stop=[": "],
        seed=3,
        user="u1",
        response_format={"type": "text"},
        tool_choice="none",
    )
    assert response.choices[0].message.content == "Answer"
    assert response.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("field", "value"),
    [("logit_bias", {"1": 5}), ("functions", [TOOLS[0]["function"]]), ("function_call", "auto")],
)
def test_a_strategy_refuses_token_and_tool_fields_like_tools(
    client: openai.OpenAI, field: str, value: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="sc/script", messages=ASK, **{field: value})
    assert refused.value.param == field


class Plain(BaseBackend):
    """A backend with ``generate`` only: pass-through requests go through it."""

    name = model = "plain"

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        return [Sample(text="Answer: 42", request_id="r") for _ in range(n)]


@pytest.fixture(scope="module")
def plain_proxy() -> Iterator[str]:
    with serving(create_app(ServerConfig(models={"plain": Plain()}))) as url:
        yield url


@pytest.mark.parametrize(
    ("field", "value"),
    [("logit_bias", {"1": 5}), ("presence_penalty", 1.0), ("top_k", 3), ("tool_choice", "auto")],
)
def test_a_generate_only_backend_refuses_what_generate_cannot_take(
    plain_proxy: str, field: str, value: Any
) -> None:
    with openai.OpenAI(base_url=f"{plain_proxy}/v1", api_key="x", max_retries=0) as plain:
        assert plain.chat.completions.create(model="plain", messages=ASK, user="u").choices
        with pytest.raises(openai.BadRequestError) as refused:
            plain.chat.completions.create(
                model="plain",
                messages=ASK,
                **({field: value} if field != "top_k" else {}),
                extra_body={"top_k": value} if field == "top_k" else None,
            )
    assert refused.value.param == field


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_upstream_400_keeps_its_param_code_and_message(
    client: openai.OpenAI, stream: bool
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="reject", messages=ASK, stream=stream)
    assert refused.value.param == "messages"
    assert refused.value.code == "context_length_exceeded"
    assert "maximum context length is 8 tokens" in refused.value.message
    with pytest.raises(openai.BadRequestError) as legacy:
        client.completions.create(model="reject", prompt="Hi", stream=stream)
    assert legacy.value.param == "messages" and legacy.value.code == "context_length_exceeded"


def test_a_busy_upstream_is_retried_alike_streamed_or_not(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    outcomes = []
    for stream in (False, True):
        before = record.busy
        with pytest.raises(openai.APIStatusError) as failed:
            client.chat.completions.create(model="busy", messages=ASK, stream=stream)
        outcomes.append((record.busy - before, failed.value.status_code, failed.value.code))
    assert outcomes[0] == outcomes[1] == (3, 502, "upstream_error"), outcomes


def test_a_dead_upstream_fails_alike_streamed_or_not(client: openai.OpenAI) -> None:
    outcomes = []
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as failed:
            client.chat.completions.create(model="down", messages=ASK, stream=stream)
        outcomes.append((failed.value.status_code, failed.value.code))
    assert outcomes[0] == outcomes[1] == (502, "upstream_unavailable"), outcomes
