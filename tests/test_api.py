"""The Python API as the README shows it, and self-consistency's votes and ties."""

from __future__ import annotations

import asyncio

import pytest

import ponder
from ponder.backends.scripted import ScriptedBackend
from ponder.errors import ConfigError
from ponder.strategies import BestOfN, BoNOptions, make_strategy


def test_ask_works_inside_a_running_event_loop() -> None:
    backend = ScriptedBackend(["Answer: 4"])

    async def notebook_cell() -> str | None:
        return ponder.ask("What is 2 + 2?", model=backend, strategy="direct").answer

    assert asyncio.run(notebook_cell()) == "4"


def test_best_of_n_takes_any_verifier_callable() -> None:
    backend = ScriptedBackend(["Answer: 5", "Answer: 4", "Answer: 6"])

    def is_four(question: str, sample: ponder.Sample) -> bool:
        return sample.answer == "4"

    result = ponder.ask("2 + 2?", model=backend, strategy="bon:n=3", scorer=is_four)
    assert result.answer == "4"
    direct = asyncio.run(BestOfN(BoNOptions(n=3), scorer=is_four).solve("2 + 2?", backend))
    assert direct.answer == "4"

    async def reward(question: str, sample: ponder.Sample) -> float:
        return -abs(float(sample.answer or 0) - 6)

    assert ponder.ask("2 + 2?", model=backend, strategy="bon:n=3", scorer=reward).answer == "6"


def test_model_none_means_the_default_and_junk_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="backend spec"):
        ponder.ask("hi", model=42, strategy="direct")  # type: ignore[arg-type]
    from ponder import api
    from ponder.models import DEFAULT_MODEL

    assert api._backend(None).name == f"embedded:{DEFAULT_MODEL}"


def test_a_self_assessment_is_not_a_vote() -> None:
    backend = ScriptedBackend(["Answer: 9", "Answer: 9", "So the answer is correct."])
    result = asyncio.run(make_strategy("sc:n=3").solve("What is 4 + 5?", backend))
    assert "correct" not in result.votes and result.votes == {"9": 2.0}


def test_ties_are_reported_and_settled_by_mean_logprob() -> None:
    outputs = [
        {"text": "Answer: 19", "logprob": -2.0},
        {"text": "Answer: 9", "logprob": -0.1},
    ]
    backend = ScriptedBackend(outputs)
    result = asyncio.run(make_strategy("sc:n=4").solve("What is 4 + 5?", backend))
    assert result.votes == {"19": 2.0, "9": 2.0}
    assert result.tied == ["19", "9"] and result.to_dict()["tied"] == ["19", "9"]
    assert result.answer == "9"  # seen second, but the model was surer of it
