"""The proxy where clients expect OpenAI's behaviour, through the ``openai`` SDK:
``models.retrieve``, every option either honoured or refused with a 400 naming it,
the upstream's own error detail, and one retry policy for streamed and plain
requests to a dead upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from conftest import Upstream, serving
from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app

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
