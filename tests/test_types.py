import pytest

from ponder.errors import ConfigError
from ponder.types import Message, Sample, SamplingParams, Usage, as_messages, last_user_text


def test_usage_counts_shared_prompt_once() -> None:
    shared = [Sample("a", "r1", prompt_tokens=10, completion_tokens=3) for _ in range(4)]
    alone = [Sample("b", "r2", prompt_tokens=10, completion_tokens=5)]
    usage = Usage.from_samples(shared + alone, wall_s=1.5)
    assert usage.prompt_tokens == 20
    assert usage.completion_tokens == 17
    assert usage.samples == 5
    assert usage.requests == 2
    assert usage.total_tokens == 37


def test_usage_adds() -> None:
    total = Usage(1, 2, 3, 4, 0.5) + Usage(10, 20, 30, 40, 1.0)
    assert (total.prompt_tokens, total.completion_tokens, total.samples, total.requests) == (
        11,
        22,
        33,
        44,
    )


@pytest.mark.parametrize("kwargs", [{"temperature": -1}, {"max_tokens": 0}, {"top_p": 0}])
def test_sampling_params_validate(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        SamplingParams(**kwargs)


def test_messages_from_text_and_dicts() -> None:
    assert as_messages("hi") == [Message("user", "hi")]
    msgs = as_messages(
        [{"role": "system", "content": "s"}, {"role": "user", "content": "q", "name": "bob"}]
    )
    assert msgs[1].extra == {"name": "bob"}
    assert msgs[1].to_dict() == {"role": "user", "content": "q", "name": "bob"}
    assert last_user_text(msgs) == "q"


@pytest.mark.parametrize("bad", ["", "   ", []])
def test_empty_question_is_a_clear_error(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"empty|no messages"):
        as_messages(bad)  # type: ignore[arg-type]


def test_message_without_role_is_rejected() -> None:
    with pytest.raises(ConfigError, match="role"):
        Message.from_dict({"content": "x"})


def test_sample_round_trips() -> None:
    sample = Sample("t", "r", 3, 4, "length", "7", [-0.5, -1.5], 0.2, 11, 0.7, "m")
    assert Sample.from_dict(sample.to_dict()) == sample
    assert sample.mean_logprob == -1.0
