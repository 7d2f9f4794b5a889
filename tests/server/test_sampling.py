"""What a client's sampling fields mean to a strategy, through the ``openai`` SDK: a
strategy samples at its own temperature (``temperature=0``, which lm-eval always sends,
must not make a vote of identical greedy samples), ``stop`` cuts the final answer's
text, and ``seed`` seeds every draw (each its own), so a strategy is reproducible;
``ponder.sampling`` says what was applied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from ponder.backends.base import BaseBackend
from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import Upstream, serving

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
ASK = [{"role": "user", "content": QUESTION}]
SCRIPT = {QUESTION: ["6 times 7.\nAnswer: 42", "Six sevens.\nAnswer: 42", "So.\nAnswer: 41"]}


@pytest.fixture(scope="module")
def script() -> ScriptedBackend:
    return ScriptedBackend(SCRIPT, model="script")


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, Upstream], script: ScriptedBackend) -> Iterator[str]:
    base, _ = upstream
    models: dict[str, Any] = {"fake": f"openai:{base}#fake?retries=0", "script": script}
    with serving(create_app(ServerConfig(models=models))) as url:
        yield url


@pytest.fixture
def client(proxy: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy}/v1", api_key="none", max_retries=0) as c:
        yield c


def ponder(response: Any) -> dict[str, Any]:
    return dict(response.model_extra["ponder"])


def test_temperature_0_does_not_collapse_a_vote(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    response = client.chat.completions.create(
        model="sc/fake", messages=ASK, temperature=0, max_tokens=8, extra_body={"ponder": {"n": 4}}
    )
    sent = record.bodies[-1]
    assert sent["n"] == 4 and sent["temperature"] == 0.7  # sc's own temperature
    extension = ponder(response)
    assert extension["sampling"]["temperatures"] == [0.7]
    assert "temperature" in extension["ignored"]


def test_a_strategy_temperature_is_set_with_its_options(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    extra = {"ponder": {"n": 2, "options": {"temperature": 0.3}}}
    response = client.chat.completions.create(
        model="fake", messages=ASK, temperature=1.5, max_tokens=8, extra_body=extra
    )
    assert record.bodies[-1]["temperature"] == 0.3
    assert ponder(response)["sampling"]["temperatures"] == [0.3]
    client.chat.completions.create(model="sc:n=2,temperature=0.9/fake", messages=ASK, max_tokens=8)
    assert record.bodies[-1]["temperature"] == 0.9


def test_stop_cuts_the_final_answer_text(client: openai.OpenAI, script: ScriptedBackend) -> None:
    extra = {"ponder": {"n": 3}}
    response = client.chat.completions.create(
        model="sc/script", messages=ASK, stop=["\n"], max_tokens=32, extra_body=extra
    )
    choice = response.choices[0]
    assert "\n" not in (choice.message.content or "")
    assert choice.message.content in ("6 times 7.", "Six sevens.")
    assert choice.finish_reason == "stop"
    extension = ponder(response)
    assert extension["answer"] == "42"  # the vote saw whole samples
    assert extension["sampling"]["stop"] == ["\n"] and "stop" not in extension["ignored"]
    assert all(not call["params"].stop for call in script.calls[-1:])
    legacy = client.completions.create(
        model="sc/script", prompt=QUESTION, stop="\n", max_tokens=32, extra_body=extra
    )
    assert "\n" not in legacy.choices[0].text


def test_stop_cuts_a_streamed_answer_too(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="sc/script",
        messages=ASK,
        stop="\n",
        max_tokens=32,
        stream=True,
        extra_body={"ponder": {"n": 3}},
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text and "\n" not in text


def seeds_of(script: ScriptedBackend, body: dict[str, Any], client: openai.OpenAI) -> list[Any]:
    before = len(script.calls)
    client.chat.completions.create(**body)
    return [call["params"].seed for call in script.calls[before:]]


def test_seed_seeds_every_draw_and_makes_a_strategy_reproducible(
    client: openai.OpenAI, script: ScriptedBackend
) -> None:
    body: dict[str, Any] = {
        "model": "sc/script",
        "messages": ASK,
        "max_tokens": 32,
        "seed": 7,
        "n": 2,
        "extra_body": {"ponder": {"n": 4, "options": {"wave": 2}}},
    }
    seeds = seeds_of(script, body, client)
    assert len(seeds) == 4 and None not in seeds  # 2 answers x 2 waves
    assert len(set(seeds)) == 4  # no wave or answer repeats another's draws
    assert 7 in seeds
    assert sorted(seeds_of(script, body, client)) == sorted(seeds)
    assert seeds_of(script, {**body, "seed": None}, client) == [None] * 4


def test_seed_reaches_the_upstream_and_is_reported(
    client: openai.OpenAI, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    response = client.chat.completions.create(
        model="sc/fake", messages=ASK, seed=11, max_tokens=8, extra_body={"ponder": {"n": 3}}
    )
    assert record.bodies[-1]["seed"] == 11
    extension = ponder(response)
    assert extension["sampling"]["seed"] == 11 and "seed" not in extension["ignored"]


async def test_a_seeded_backend_keeps_the_resume_capability(script: ScriptedBackend) -> None:
    from ponder.backends.base import Continues
    from ponder.server.chat.sampling import seeded
    from ponder.types import Message, SamplingParams

    resumable = seeded(script, 5)
    assert isinstance(resumable, Continues)
    params = SamplingParams(temperature=0.7, max_tokens=8)
    sample = await resumable.continue_text([Message("user", QUESTION)], "6 times", params)
    assert sample.text and script.calls[-1]["params"].seed == 5
    assert not isinstance(seeded(Plain(), 5), Continues)


class Plain(BaseBackend):
    name = model = "plain"
