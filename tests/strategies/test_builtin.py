import pytest

from ponder import ScriptedBackend, ask_async, cost, make_strategy
from ponder.errors import BackendUnavailableError, ConfigError, UnknownStrategyError
from ponder.strategies import parse_strategy_spec
from ponder.strategies.verifiers import CallableScorer
from ponder.types import Sample, Usage

Q = "Tom has 3 apples and buys 4 more. How many apples?"
WRONG_THEN_RIGHT = [
    "Answer: 6",
    "Answer: 7",
    "Answer: 7",
    "Answer: 8",
    "Answer: 7",
    "Answer: 7",
    "Answer: 7",
    "Answer: 7",
]


async def test_direct_is_greedy_and_accounts_usage() -> None:
    backend = ScriptedBackend({Q: ["The answer is 7.", "The answer is 9."]})
    result = await make_strategy("direct").solve(Q, backend)
    assert result.answer == "7"
    assert result.usage.samples == 1 and result.usage.requests == 1
    assert result.usage.completion_tokens == 4
    assert backend.calls[0]["params"].temperature == 0.0


async def test_cot_adds_instruction_to_the_question() -> None:
    backend = ScriptedBackend(["Step 1... Answer: 7"])
    result = await make_strategy("cot").solve(Q, backend)
    sent = backend.calls[0]["messages"][-1].content
    assert sent.startswith(Q) and "Answer:" in sent
    assert result.answer == "7"


async def test_sc_majority_vote_in_one_shared_request() -> None:
    backend = ScriptedBackend({Q: WRONG_THEN_RIGHT})
    result = await make_strategy("sc:n=8").solve(Q, backend)
    assert result.answer == "7"
    assert result.votes == {"6": 1, "7": 6, "8": 1}
    assert result.confidence == pytest.approx(6 / 8)
    assert result.usage.samples == 8
    assert result.usage.requests == 1  # one n=8 request
    prompt = backend.calls[0]["messages"]
    assert result.usage.prompt_tokens == sum(len((m.content or "").split()) for m in prompt)


async def test_sc_early_stopping_saves_samples() -> None:
    backend = ScriptedBackend({Q: ["Answer: 7"]})
    result = await make_strategy("sc:n=32,stop=esc,wave=4").solve(Q, backend)
    assert result.answer == "7"
    assert result.usage.samples == 4
    assert result.trace[-1]["stop"] is True


async def test_sc_beta_rule_draws_until_confident() -> None:
    backend = ScriptedBackend({Q: ["Answer: 7", "Answer: 8"] + ["Answer: 7"] * 30})
    result = await make_strategy("sc:n=32,stop=beta,wave=1").solve(Q, backend)
    assert result.answer == "7"
    assert 5 <= result.usage.samples < 32


async def test_sc_without_n_support_uses_concurrent_requests() -> None:
    backend = ScriptedBackend({Q: WRONG_THEN_RIGHT})
    backend.supports_n = False
    result = await make_strategy("sc:n=4").solve(Q, backend)
    assert result.usage.requests == 4 and result.usage.samples == 4


async def test_weighted_vote_prefers_probable_answers() -> None:
    outputs = [
        {"text": "Answer: 5", "logprob": -0.05},
        {"text": "Answer: 9", "logprob": -3},
        {"text": "Answer: 9", "logprob": -3},
    ]
    backend = ScriptedBackend({Q: outputs})
    plain = await make_strategy("sc:n=3").solve(Q, ScriptedBackend({Q: outputs}))
    weighted = await make_strategy("sc:n=3,weighted=true").solve(Q, backend)
    assert plain.answer == "9"
    assert weighted.answer == "5"


async def test_best_of_n_with_verifier_beats_the_vote() -> None:
    outputs = ["Answer: 8", "Answer: 8", "Answer: 7", "Answer: 8"]

    def verifier(question: str, sample: Sample) -> bool:
        return sample.answer == "7"

    from ponder.strategies import BestOfN, BoNOptions

    bon = BestOfN(BoNOptions(n=4), scorer=CallableScorer(verifier))
    result = await bon.solve(Q, ScriptedBackend({Q: outputs}))
    vote = await make_strategy("sc:n=4").solve(Q, ScriptedBackend({Q: outputs}))
    assert result.answer == "7" and vote.answer == "8"
    assert result.trace[-1]["scores"] == [0.0, 0.0, 1.0, 0.0]


async def test_best_of_n_logprob_scorer() -> None:
    outputs = [{"text": "Answer: 1", "logprob": -2}, {"text": "Answer: 2", "logprob": -0.1}]
    result = await make_strategy("bon:n=2").solve(Q, ScriptedBackend({Q: outputs}))
    assert result.answer == "2"


async def test_best_of_n_never_picks_a_candidate_without_an_answer() -> None:
    # The surest candidate rambles to the length limit: it has no answer, so choosing
    # it would answer nothing although two candidates answered.
    ramble = "Let us think about the numbers one at a time and " * 40
    outputs = [
        {"text": ramble, "logprob": -0.01},
        {"text": "Answer: 5", "logprob": -1.5},
        {"text": "Answer: 4", "logprob": -0.9},
    ]
    result = await make_strategy("bon:n=3,max_tokens=64").solve(Q, ScriptedBackend({Q: outputs}))
    assert result.answer == "4"
    assert result.samples[0].answer is None


async def test_best_of_n_judge_counts_judge_tokens() -> None:
    def script(question: str, params: object, k: int) -> str:
        if question.startswith("Question:"):
            return "9" if "Answer: 7" in question else "2"
        return ["Answer: 6", "Answer: 7"][k % 2]

    result = await make_strategy("bon:n=2,scorer=judge").solve(Q, ScriptedBackend(script))
    assert result.answer == "7"
    assert result.usage.requests == 3  # one sampling request + two judge calls
    assert result.usage.samples == 4


async def test_strategies_hold_no_state_between_calls() -> None:
    strategy = make_strategy("sc:n=4")
    first = await strategy.solve(Q, ScriptedBackend({Q: ["Answer: 7"]}))
    second = await strategy.solve(Q, ScriptedBackend({Q: ["Answer: 3"]}))
    assert (first.answer, second.answer) == ("7", "3")
    assert second.usage.samples == 4


async def test_backend_failure_propagates_as_ponder_error() -> None:
    with pytest.raises(BackendUnavailableError):
        await make_strategy("sc:n=2").solve(Q, ScriptedBackend(fail_first=1))


async def test_ask_async_accepts_backend_objects() -> None:
    result = await ask_async(Q, ScriptedBackend({Q: ["Answer: 7"]}), "sc:n=3")
    assert result.answer == "7" and result.model == "scripted"


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("nope", UnknownStrategyError),
        ("sc:n=0", ConfigError),
        ("sc:bogus=1", ConfigError),
        ("sc:n", ConfigError),
        ("sc:stop=later", ConfigError),
        ("bon:scorer=vibes", ConfigError),
        ("", ConfigError),
    ],
)
def test_bad_strategy_specs_are_clear(spec: str, error: type) -> None:
    with pytest.raises(error):
        make_strategy(spec)


def test_spec_parsing() -> None:
    assert parse_strategy_spec("sc:n=16, stop=esc") == ("sc", {"n": "16", "stop": "esc"})
    strategy = make_strategy("sc:n=16", n=4)
    assert strategy.options.n == 4  # type: ignore[attr-defined]


async def test_judge_on_another_model_is_priced_at_its_own_price() -> None:
    from ponder.strategies import BestOfN, BoNOptions
    from ponder.strategies.verifiers import JudgeScorer

    judge = ScriptedBackend(["9"], model="gpt-4o")
    bon = BestOfN(BoNOptions(n=2), scorer=JudgeScorer(judge))
    result = await bon.solve(Q, ScriptedBackend(["Answer: 7"]))
    assert result.usage.requests == 3  # one sampling request + two judge calls
    prompt = sum(len(c["messages"][0].content.split()) for c in judge.calls)
    expected = cost.estimate(Usage(prompt_tokens=prompt, completion_tokens=2), "gpt-4o")
    # the sampler is local (free): every dollar is the judge's, at gpt-4o's price
    assert result.cost.dollars == pytest.approx(expected.dollars)
