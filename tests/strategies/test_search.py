"""Tree of thoughts and step-level beam search on a scripted model whose majority is
wrong but whose steps a verifier can tell apart."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.strategies import make_strategy
from ponder.strategies.base import Bounded
from ponder.types import SamplingParams

Q = "Ana has 17 coins. A friend gives them 25 coins. How many coins does Ana have now?"


def model(prompt: str, params: SamplingParams, k: int) -> str:
    """Three of four first steps add wrongly; each path then concludes from its own sum."""
    if "sure, likely or impossible" in prompt:
        return "impossible" if "= 32" in prompt else "sure"
    if "most promising" in prompt:
        return "The best choice is 2" if "Choice 2: 17 + 25 = 42" in prompt else "1"
    if "only the first step" in prompt:
        return "17 + 25 = 42" if k % 4 == 1 else "17 + 25 = 32"
    return "Answer: 42" if "= 42" in prompt else "Answer: 32"


def backend() -> ScriptedBackend:
    return ScriptedBackend(model)


async def test_self_consistency_follows_the_wrong_majority() -> None:
    result = await make_strategy("sc:n=4").solve(Q, backend())
    assert result.answer == "32"


async def test_beam_with_calc_finds_the_right_path_and_accounts_for_it() -> None:
    fake = backend()
    result = await make_strategy("beam:n=4,width=2,scorer=calc").solve(Q, fake)
    assert result.answer == "42"
    nodes = [t for t in result.trace if "node" in t]
    assert {n["score"] for n in nodes if "= 32" in n["step"]} == {0.0}
    assert all(n["tokens"] > 0 for n in nodes)
    # one request for the root's 4 steps, one per kept beam after that (n shared)
    assert [c["n"] for c in fake.calls] == [4, 2, 2]
    assert result.usage.requests == 3 and result.usage.samples == 8
    assert result.usage.prompt_tokens == sum(
        len(" ".join(m.content or "" for m in c["messages"]).split()) for c in fake.calls
    )
    strategy = make_strategy("beam:n=4,width=2,scorer=calc")
    assert isinstance(strategy, Bounded) and strategy.work().samples >= result.usage.samples


async def test_beam_respects_a_token_budget() -> None:
    fake = backend()
    result = await make_strategy("beam:n=4,width=2,token_budget=10").solve(Q, fake)
    assert len(fake.calls) == 1  # too little for four steps: it only concludes
    assert any(t.get("step") == "budget" for t in result.trace)


async def test_a_budget_caps_the_steps_a_search_draws() -> None:
    def wordy(prompt: str, params: SamplingParams, k: int) -> str:
        if "Now give only the final answer" in prompt:
            return "Answer: 42"
        return " ".join(["17 + 25 = 42,", *["and"] * 40, str(k)])

    for spec in ("beam:n=4,width=2,depth=6", "tot:k=3,b=2,depth=6,evaluate=scorer"):
        fake = ScriptedBackend(wordy)
        result = await make_strategy(f"{spec},token_budget=100").solve(Q, fake)
        concluding = 2  # "Answer: 42", asked once no level fits
        assert 0 < result.usage.completion_tokens <= 100 + concluding
        assert result.answer == "42"
        steps = [c for c in fake.calls if "Now give only" not in c["messages"][-1].content]
        assert steps and sum(c["n"] * c["params"].max_tokens for c in steps) <= 100


async def test_tot_with_value_prompts_prunes_impossible_states_and_caches() -> None:
    fake = backend()
    result = await make_strategy("tot:k=4,b=1,depth=3").solve(Q, fake)
    assert result.answer == "42"
    values = [c for c in fake.calls if "impossible" in c["messages"][-1].content]
    asked = [c["messages"][-1].content for c in values]
    assert len(asked) == len(set(asked))  # identical states are evaluated once
    assert len(values) == 3  # root -> {32, 42} merged, then the 42 path's answer
    assert result.usage.requests == len(fake.calls)


async def test_tot_by_vote_and_by_scorer() -> None:
    voted = await make_strategy("tot:k=2,b=1,evaluate=vote,value_n=3").solve(Q, backend())
    scored = await make_strategy("tot:k=4,b=1,evaluate=scorer,scorer=calc").solve(Q, backend())
    assert voted.answer == scored.answer == "42"


def test_cli_ask_runs_the_searches(tmp_path) -> None:
    script = tmp_path / "s.json"
    steps = {"only the first step": ["17 + 25 = 32", "17 + 25 = 42"], "= 42": ["Answer: 42"]}
    script.write_text(json.dumps({**steps, "= 32": ["Answer: 32"]}))
    for spec in ("beam:n=2,width=1", "tot:k=2,b=1,evaluate=scorer"):
        result = CliRunner().invoke(
            cli, ["ask", Q, "-m", f"scripted:{script}", "-s", spec, "--json"]
        )
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["answer"] == "42"
    bad = CliRunner().invoke(cli, ["ask", Q, "-m", f"scripted:{script}", "-s", "beam:scorer=vibes"])
    assert bad.exit_code != 0 and "scorer" in bad.output and "Traceback" not in bad.output


async def test_beam_with_an_llm_judge_of_steps_on_another_backend() -> None:
    def judge(prompt: str, params: SamplingParams, k: int) -> str:
        if "A partial solution" in prompt:  # the step judge
            return "1" if "= 32" in prompt else "9"
        return "2" if "Answer: 32" in prompt else "8"

    from ponder.strategies.beam import BeamOptions, BeamSearch
    from ponder.strategies.verifiers import JudgeScorer

    judged = ScriptedBackend(judge, model="judge")
    beam = BeamSearch(BeamOptions(n=4, width=2), scorer=JudgeScorer(judged))
    result = await beam.solve(Q, backend())
    assert result.answer == "42"
    prompts = [c["messages"][-1].content for c in judged.calls]
    assert any("partial solution" in p for p in prompts) and result.usage.requests > 3


async def test_tot_takes_a_python_verifier() -> None:
    from ponder.strategies.tree import ToTOptions, TreeOfThoughts

    calls: list[str] = []

    def verifier(question: str, sample: object) -> bool:
        calls.append(question)
        return "= 32" not in getattr(sample, "text", "")

    tot = TreeOfThoughts(ToTOptions(k=4, b=1, evaluate="scorer"), scorer=verifier)
    result = await tot.solve(Q, backend())
    assert result.answer == "42" and calls and calls[0] == Q


async def test_tot_stays_within_its_declared_work_and_budget() -> None:
    for spec in ("tot:k=4,b=2,depth=3", "tot:k=2,b=2,evaluate=vote,value_n=2", "tot:k=3,b=3"):
        strategy = make_strategy(spec)
        result = await strategy.solve(Q, backend())
        assert isinstance(strategy, Bounded)
        bound = strategy.work()
        assert result.usage.samples <= bound.samples
        assert result.usage.completion_tokens <= bound.tokens
    fake = backend()
    capped = await make_strategy("tot:k=4,b=2,token_budget=5").solve(Q, fake)
    assert any(t.get("step") == "budget" for t in capped.trace)


async def test_beam_keeps_searching_past_poor_finished_paths() -> None:
    def hasty(prompt: str, params: SamplingParams, k: int) -> str:
        if "So Ana has 42" in prompt:
            return "Answer: 42"
        if k % 4 < 2:  # half of every request blurts a guess
            return "Answer: 30"
        return "17 + 25 = 42" if "only the first step" in prompt else "So Ana has 42 coins."

    result = await make_strategy("beam:n=4,width=4").solve(Q, ScriptedBackend(hasty))
    assert result.answer == "42"  # four poor finished paths did not end the search
    assert max(t["score"] for t in result.trace if "node" in t) == 1.0


async def test_a_step_echoing_the_prompt_is_no_step() -> None:
    echo = "Solve the problem one step at a time. Write it as 'Answer: <answer>'."

    def parrot(prompt: str, params: SamplingParams, k: int) -> str:
        if "only the first step" in prompt:
            return echo if k % 2 == 0 else "17 + 25 = 42"
        if "Steps so far:\n17 + 25 = 42" in prompt and k % 3 == 0:
            return "Write only the next step."
        return "Answer: 42"

    for spec in ("beam:n=4,width=2", "tot:k=4,b=2,evaluate=scorer"):
        result = await make_strategy(spec).solve(Q, ScriptedBackend(parrot))
        steps = [t["step"] for t in result.trace if "node" in t]
        assert steps and not any("<answer>" in s or "Write only" in s for s in steps)
        assert result.answer == "42"


async def test_min_steps_drops_unworked_answers() -> None:
    def guesser(prompt: str, params: SamplingParams, k: int) -> dict[str, object]:
        if "only the first step" in prompt:  # three confident guesses, one worked step
            return (
                {"text": "17 + 25 = 42", "logprob": -1.0}
                if k % 4 == 3
                else {
                    "text": "Answer: 32",
                    "logprob": -0.1,
                }
            )
        return {"text": "Answer: 42", "logprob": -0.5}

    for spec in ("beam:n=4,width=2,scorer=logprob", "tot:k=4,b=2,evaluate=scorer,scorer=logprob"):
        hasty = await make_strategy(spec).solve(Q, ScriptedBackend(guesser))
        assert hasty.answer == "32"  # by default a first-step answer may win
        worked = await make_strategy(f"{spec},min_steps=2").solve(Q, ScriptedBackend(guesser))
        assert worked.answer == "42"
        first = [t for t in worked.trace if t.get("parent") == 0]
        assert first and not any(t["complete"] for t in first)


async def test_a_search_whose_steps_are_all_dropped_still_concludes() -> None:
    def blurter(prompt: str, params: SamplingParams, k: int) -> str:
        if "Now give only the final answer" in prompt:
            return "Answer: 42"
        return "Answer: 32"  # every proposed step is an unworked answer

    for spec in ("beam:n=4,width=2,min_steps=2", "tot:k=3,b=2,evaluate=scorer,min_steps=2"):
        result = await make_strategy(spec).solve(Q, ScriptedBackend(blurter))
        assert result.answer == "42"


async def test_the_concluding_request_asks_for_the_answer_alone() -> None:
    asked: list[str] = []

    def recorder(prompt: str, params: SamplingParams, k: int) -> str:
        asked.append(prompt)
        return "Answer: 42" if "Now give only the final answer" in prompt else "17 + 25 = 42"

    await make_strategy("beam:n=2,width=1,depth=1").solve(Q, ScriptedBackend(recorder))
    [finish] = [p for p in asked if "Now give only the final answer" in p]
    assert "17 + 25 = 42" in finish  # the path so far
    assert "next step" not in finish and "first step" not in finish
    assert "one step at a time" not in finish


async def test_beam_wider_than_its_beams_stays_within_its_declared_work() -> None:
    """width > n: one kept path grows ``width`` children a level, more than ``n``."""
    for spec in ("beam:n=1,width=16,depth=4", "beam:n=2,width=8,depth=3,scorer=calc"):
        strategy = make_strategy(spec)
        fake = ScriptedBackend(lambda prompt, params, k: "17 + 25 = 42")  # never finishes
        result = await strategy.solve(Q, fake)
        assert isinstance(strategy, Bounded)
        bound = strategy.work()
        assert result.usage.samples <= bound.samples, spec
        assert result.usage.completion_tokens <= bound.tokens, spec
