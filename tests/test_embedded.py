"""The real embedded model: SmolLM2-135M through llama.cpp, in process."""

from __future__ import annotations

import pytest

from ponder import make_strategy
from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.types import Message, SamplingParams

pytestmark = pytest.mark.model


async def test_names_paris(embedded: Backend) -> None:
    result = await make_strategy("direct:max_tokens=24").solve(
        "What is the capital of France?", embedded
    )
    assert "paris" in result.text.lower()
    assert result.usage.requests == 1 and result.usage.completion_tokens > 0
    assert result.cost.flops == pytest.approx(2 * 134_515_008 * result.usage.total_tokens)


async def test_n_samples_share_one_request_and_every_token_is_counted(
    embedded: Backend,
) -> None:
    params = SamplingParams(temperature=1.0, max_tokens=8)
    samples = await embedded.generate([Message("user", "Tell me a long story.")], params, 4)
    assert len(samples) == 4
    assert len({s.request_id for s in samples}) == 1
    for s in samples:
        # each choice's own tokens, not the one-choice figure llama.cpp puts in usage
        assert s.completion_tokens == len(s.token_logprobs or [])
        if s.finish_reason == "length":
            assert s.completion_tokens == 8
    assert sum(s.completion_tokens for s in samples) > 8


async def test_self_consistency_returns_a_vote_distribution(embedded: Backend) -> None:
    result = await make_strategy("sc:n=4,max_tokens=48").solve("What is 2 + 3?", embedded)
    assert result.usage.samples == 4 and result.usage.requests == 1
    assert sum(result.votes.values()) <= 4
    assert result.votes and result.answer in result.votes
    assert result.usage.completion_tokens == sum(s.completion_tokens for s in result.samples)
    assert result.usage.prompt_tokens == result.samples[0].prompt_tokens


def test_same_settings_share_one_loaded_model(embedded: Backend) -> None:
    other = load_backend("embedded:smollm2-135m?threads=2&slots=8&ctx=1024", cache=False)
    assert other._server is embedded._server  # type: ignore[attr-defined]


def test_bad_options_are_clear() -> None:
    with pytest.raises(ConfigError, match="slots"):
        load_backend("embedded:smollm2-135m?slots=zero")
    with pytest.raises(ConfigError, match="unknown embedded option"):
        load_backend("embedded:smollm2-135m?gpu=1")
