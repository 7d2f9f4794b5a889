"""``/v1/completions`` as lm-eval and other prompt-API clients use it, through the
official ``openai`` SDK: a pass-through model whose upstream has the prompt API gets
the request as sent (``echo``, token ``logprobs``, ``suffix``, ``best_of``, token-id
prompts), while a strategy model answers each prompt through chat and refuses what it
cannot honour with a 400 naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import Upstream, serving

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
# What lm-eval's local-completions sends for a loglikelihood request.
LOGLIKELIHOOD: dict[str, Any] = {"temperature": 0, "max_tokens": 1, "logprobs": 1, "seed": 1234}


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, Upstream]) -> Iterator[str]:
    base, _ = upstream
    models: dict[str, Any] = {
        "fake": f"openai:{base}#fake?retries=0",
        "script": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="script"),
    }
    with serving(create_app(ServerConfig(models=models))) as url:
        yield url


@pytest.fixture
def client(proxy: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy}/v1", api_key="none", max_retries=0) as c:
        yield c


def last(record: Upstream) -> tuple[str, dict[str, Any]]:
    return record.paths[-1], record.bodies[-1]


def test_loglikelihood_goes_to_the_upstream_prompt_api(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    prompt = "Question: capital of France?\nAnswer: Paris"
    response = client.completions.create(model="fake", prompt=prompt, echo=True, **LOGLIKELIHOOD)
    path, body = last(record)
    assert path == "/v1/completions"
    assert body == {"model": "fake", "prompt": prompt, "echo": True, **LOGLIKELIHOOD}
    choice = response.choices[0]
    assert choice.text.startswith(prompt)
    assert choice.logprobs is not None and choice.logprobs.token_logprobs[0] is None
    assert choice.logprobs.token_logprobs[1] == -0.5
    assert response.model == "fake" and response.object == "text_completion"


def test_suffix_best_of_and_several_prompts_pass_through(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    response = client.completions.create(
        model="fake", prompt=["a", "b"], suffix="!", best_of=3, n=2, max_tokens=4
    )
    path, body = last(record)
    assert path == "/v1/completions"
    assert body["suffix"] == "!" and body["best_of"] == 3 and body["prompt"] == ["a", "b"]
    assert [c.index for c in response.choices] == [0, 1, 2, 3]
    assert all(c.text.endswith("!") for c in response.choices)


def test_a_stream_from_the_prompt_api_is_relayed(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    stream = client.completions.create(
        model="fake",
        prompt="Once",
        max_tokens=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert last(record)[0] == "/v1/completions"
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "one two"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 7
    assert all(c.model == "fake" and c.object == "text_completion" for c in chunks)


def test_without_max_tokens_the_api_default_of_16_is_sent(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    client.completions.create(model="fake", prompt="Once")
    assert last(record)[1]["max_tokens"] == 16


def test_a_strategy_model_answers_through_chat_and_says_so(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    response = client.completions.create(
        model="sc/fake", prompt=QUESTION, max_tokens=8, extra_body={"ponder": {"n": 2}}
    )
    path, body = last(record)
    assert path == "/v1/chat/completions"
    assert body["messages"][-1]["role"] == "user" and QUESTION in body["messages"][-1]["content"]
    assert response.model_extra is not None
    assert response.model_extra["ponder"]["served_as"] == "chat"


@pytest.mark.parametrize(
    ("field", "value"),
    [("echo", True), ("logprobs", 1), ("suffix", "!"), ("best_of", 2)],
)
@pytest.mark.parametrize("model", ["sc/fake", "script"])
def test_what_chat_cannot_honour_is_refused_naming_the_field(
    client: openai.OpenAI, upstream: tuple[str, Upstream], model: str, field: str, value: Any
) -> None:
    _, record = upstream
    before = len(record.bodies)
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model=model, prompt=QUESTION, max_tokens=4, **{field: value})
    assert refused.value.param == field, refused.value.message
    assert field in refused.value.message
    assert len(record.bodies) == before


def test_prompt_scoring_with_max_tokens_0_is_forwarded(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    client.completions.create(model="fake", prompt="Paris", echo=True, logprobs=0, max_tokens=0)
    path, body = last(record)
    assert path == "/v1/completions" and body["max_tokens"] == 0 and body["logprobs"] == 0


def test_best_of_counts_in_the_work_bound(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    before = len(record.bodies)
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="fake", prompt=["a"] * 30, best_of=20, max_tokens=1)
    assert "work" in refused.value.message and len(record.bodies) == before


@pytest.mark.parametrize("prompt", [[1, 2, 3], [[1, 2], [3, 4, 5]]], ids=["ids", "lists"])
def test_token_id_prompts_pass_through(
    client: openai.OpenAI, upstream: tuple[str, Upstream], prompt: Any
) -> None:
    _, record = upstream
    response = client.completions.create(model="fake", prompt=prompt, echo=True, **LOGLIKELIHOOD)
    path, body = last(record)
    assert path == "/v1/completions" and body["prompt"] == prompt
    assert len(response.choices) == (2 if isinstance(prompt[0], list) else 1)


@pytest.mark.parametrize("model", ["sc/fake", "script"])
def test_a_token_id_prompt_where_text_is_needed_is_refused_naming_prompt(
    client: openai.OpenAI, model: str
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model=model, prompt=[1, 2, 3], max_tokens=4)
    assert refused.value.param == "prompt"
    assert "token" in refused.value.message


@pytest.mark.parametrize("prompt", [[1, "a"], [True], [[1], "a"], 7, [[1.5]]])
def test_a_malformed_prompt_is_refused_naming_prompt(client: openai.OpenAI, prompt: Any) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="fake", prompt=prompt, max_tokens=4)
    assert refused.value.param == "prompt", refused.value.message
    assert "prompt.str" not in refused.value.message


def test_a_malformed_message_content_names_the_field_not_a_union_member(
    client: openai.OpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(
            model="fake",
            messages=[{"role": "user", "content": 7}],  # type: ignore[list-item]
        )
    assert refused.value.param == "messages.0.content", refused.value.message


def test_too_many_prompts_are_refused_before_any_is_built(
    client: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each prompt is one answer at least, so a list over the sample cap is refused on
    its length alone: no per-prompt chat body is built first (each is a copy of the
    whole request)."""
    from ponder.server.completions import legacy

    built: list[str] = []
    real = legacy.chat_body
    monkeypatch.setattr(legacy, "chat_body", lambda raw, p: built.append(p) or real(raw, p))
    with pytest.raises(openai.BadRequestError) as refused:
        client.completions.create(model="sc/fake", prompt=["Hi"] * 2_000, max_tokens=1)
    assert refused.value.code == "work_over_cap" and "2000 answer(s)" in str(refused.value)
    assert built == []
