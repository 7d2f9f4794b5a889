"""The backend contract: every built-in implements it, pass-through is a checked
capability, and the OpenAI wire codec builds what servers send."""

from __future__ import annotations

from ponder.backends import load_backend, wire
from ponder.backends.base import Backend, BaseBackend, PassThrough
from ponder.backends.openai import OpenAIBackend
from ponder.backends.scripted import ReplayBackend, ScriptedBackend
from ponder.types import Sample


def test_built_ins_implement_the_contract() -> None:
    scripted = ScriptedBackend({"q": ["Answer: 1"]})
    remote = OpenAIBackend("http://127.0.0.1:9/v1", "m")
    replay = ReplayBackend({"q": [Sample(text="Answer: 1", request_id="r")]})
    for backend in (scripted, remote, replay):
        assert isinstance(backend, Backend)
    assert isinstance(scripted, PassThrough) and isinstance(remote, PassThrough)
    assert not isinstance(replay, PassThrough)
    assert not isinstance(BaseBackend(), PassThrough)
    assert isinstance(load_backend("scripted:", cache=False), PassThrough)


def test_a_response_streams_as_role_content_finish_then_usage() -> None:
    samples = [
        Sample(text="two words", request_id="r", prompt_tokens=4, completion_tokens=2),
        Sample(text="x", request_id="r", completion_tokens=1, finish_reason="length"),
    ]
    response = wire.response_from_samples(samples, "m")
    assert response["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert [c["finish_reason"] for c in response["choices"]] == ["stop", "length"]
    response["ponder"] = {"answer": "2"}
    chunks = wire.response_chunks(response, include_usage=True, pieces=2)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    assert deltas[:4] == [
        {"role": "assistant", "content": ""},
        {"content": "two"},
        {"content": " words"},
        {},
    ]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 7
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-2]["ponder"] == {"answer": "2"}
    assert "ponder" not in chunks[0]
    plain = wire.response_chunks(response, include_usage=False)
    assert all("usage" not in c for c in plain) and len(plain) == 6


async def test_in_requests_of_splits_a_draw_and_offsets_each_requests_seed() -> None:
    from ponder.backends.base import in_requests_of
    from ponder.types import Message, Sample, SamplingParams

    asked: list[tuple[int, int | None]] = []

    async def generate(messages, params, n):  # type: ignore[no-untyped-def]
        asked.append((n, params.seed))
        return [Sample(text="x", request_id=str(len(asked))) for _ in range(n)]

    messages = [Message("user", "hi")]
    samples = await in_requests_of(4, generate, messages, SamplingParams(seed=3), 10)
    assert len(samples) == 10 and sorted(asked) == [(2, 11), (4, 3), (4, 7)]
    asked.clear()
    await in_requests_of(4, generate, messages, SamplingParams(), 5)
    assert sorted(asked) == [(1, None), (4, None)]
