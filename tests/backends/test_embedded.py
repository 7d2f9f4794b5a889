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


async def test_a_pass_through_with_n_counts_every_choice_in_its_usage(
    embedded: Backend,
) -> None:
    from ponder.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    body = {
        "messages": [{"role": "user", "content": "Count from 1 to 50."}],
        "n": 3,
        "max_tokens": 8,
        "temperature": 1.0,
    }
    three = await embedded.chat_raw({**body, "logprobs": True})
    drawn = sum(len(c["logprobs"]["content"]) for c in three["choices"])
    # llama.cpp's own usage counts one choice (at most 8 here); a proxy's upstream must
    # report what all three drew
    assert three["usage"]["completion_tokens"] == drawn > 8
    assert three["usage"]["total_tokens"] == three["usage"]["prompt_tokens"] + drawn
    plain = await embedded.chat_raw(body)
    assert plain["usage"]["completion_tokens"] > 8
    assert all(c["logprobs"] is None for c in plain["choices"])  # not asked for


async def test_a_streamed_pass_through_with_n_counts_every_choice_in_its_usage(
    embedded: Backend,
) -> None:
    from ponder.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    body = {
        "messages": [{"role": "user", "content": "Count from 1 to 50."}],
        "n": 3,
        "max_tokens": 8,
        "temperature": 1.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    chunks = [chunk async for chunk in embedded.stream_raw(body)]
    usage = next(c["usage"] for c in chunks if c.get("usage"))
    indices = {ch["index"] for c in chunks for ch in c.get("choices") or []}
    assert indices == {0, 1, 2}
    assert usage["completion_tokens"] > 8  # llama.cpp's own count: one choice, at most 8
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert all(ch.get("logprobs") is None for c in chunks for ch in c.get("choices") or [])


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


async def test_cancelling_generate_stops_llama_cpp_and_frees_its_slots(embedded: Backend) -> None:
    import asyncio

    from ponder.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    story = [Message("user", "Write a very long story about a dragon, in many chapters.")]
    before = embedded.activity.chunks
    busy = asyncio.ensure_future(
        embedded.generate(story, SamplingParams(temperature=1.0, max_tokens=900), 8)
    )
    while embedded.activity.chunks == before:  # all 8 slots are generating now
        await asyncio.sleep(0.05)
    busy.cancel()
    with pytest.raises(asyncio.CancelledError):
        await busy
    for _ in range(3000):  # the llama.cpp call returns once it sees the stop
        if not embedded.activity.requests:
            break
        await asyncio.sleep(0.1)
    assert embedded.activity.requests == 0
    assert embedded.activity.chunks - before < 8 * 900 // 2  # stopped, not finished
    short = await embedded.generate([Message("user", "Hi")], SamplingParams(max_tokens=4), 1)
    assert short[0].completion_tokens >= 1


def test_default_threads_follow_free_cores_not_the_machine() -> None:
    from ponder.backends.embedded import EmbeddedOptions, available_cores, default_threads

    assert default_threads(cores=8, load=0.0) == 8
    assert default_threads(cores=2, load=1.9) == 1  # another job holds a core: one thread
    assert default_threads(cores=2, load=6.0) == 1
    assert default_threads(cores=4, load=1.0) == 3
    assert 1 <= default_threads() <= available_cores()
    assert EmbeddedOptions().poll == 0  # workers sleep between steps instead of spinning
    with pytest.raises(ConfigError, match="poll"):
        load_backend("embedded:smollm2-135m?poll=101")


async def test_leaving_a_raw_stream_early_frees_its_slot(embedded: Backend) -> None:
    import asyncio

    from ponder.backends.embedded import EmbeddedBackend

    assert isinstance(embedded, EmbeddedBackend)
    body = {
        "messages": [{"role": "user", "content": "Write a very long story about a dragon."}],
        "max_tokens": 900,
        "n": 8,
        "temperature": 1.0,
    }
    before = embedded.activity.chunks
    stream = embedded.stream_raw(body)
    async for _ in stream:
        break  # the client hung up after the first chunk
    await stream.aclose()
    for _ in range(3000):  # the llama.cpp call returns once it sees the stop
        if not embedded.activity.requests:
            break
        await asyncio.sleep(0.1)
    assert embedded.activity.requests == 0
    assert embedded.activity.chunks - before < 8 * 900 // 2  # stopped, not finished
    await embedded.generate([Message("user", "Hi")], SamplingParams(max_tokens=4), 1)


async def test_a_cut_greedy_reply_continued_equals_one_greedy_run(embedded: Backend) -> None:
    from ponder.backends.base import Continues

    assert isinstance(embedded, Continues)
    # cut after "32\n\n": SmolLM2 drew "\n", "\n", which its tokenizer would merge
    messages = [Message("user", "What is 17 + 25? Think step by step.")]
    full = (await embedded.generate(messages, SamplingParams(max_tokens=40)))[0]
    cut = (await embedded.generate(messages, SamplingParams(max_tokens=12)))[0]
    assert cut.finish_reason == "length" and full.text.startswith(cut.text)
    assert cut.token_ids is not None and len(cut.token_ids) == cut.completion_tokens
    params = SamplingParams(max_tokens=28)
    more = await embedded.continue_text(messages, cut.text, params, cut.token_ids)
    assert cut.text + more.text == full.text
    assert cut.completion_tokens + more.completion_tokens == full.completion_tokens
    assert more.finish_reason == full.finish_reason
    assert more.prompt_tokens == cut.prompt_tokens + cut.completion_tokens
    from_text = await embedded.continue_text(messages, cut.text, params)
    assert from_text.prompt_tokens == more.prompt_tokens - 1  # the other split shows
