"""A router's probe is paid for before the plan is chosen, so it votes: it joins the
first stage on its tier as a sample that stage already holds, and it is never drawn
twice. A plan that ignored it threw away a sample the question had paid for."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import ponder.routing
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.scripted import ScriptedBackend
from ponder.cascade import Decision, Draw, parse_plan, probe_request, run_plan
from ponder.routing.router_file import router_from_dict
from ponder.strategies.auto import AutoOptions, AutoStrategy
from ponder.types import Sample, SamplingParams

PROGRAM = probe_request("pot@1")
TOP_ROUTER = Path(ponder.routing.__file__).parent / "ladder_top_router.json"


def sample(answer: str | None, text: str = "", logprob: float = -0.2) -> Sample:
    return Sample(
        text or f"Answer: {answer}",
        "r",
        completion_tokens=5,
        answer=answer,
        token_logprobs=[logprob],
    )


def drive(
    plan: str, replies: list[list[Sample]], probe: Sample | None, drawn_by: Draw = PROGRAM
) -> tuple[list[Draw], Decision]:
    """Run ``plan`` after ``probe`` (drawn by ``pot@1``), answering its draws in turn."""
    steps = run_plan(parse_plan(plan), probe=(drawn_by, probe) if probe else None)
    asked: list[Draw] = []
    try:
        request = next(steps)
        while True:
            asked.append(request)
            request = steps.send(replies[len(asked) - 1])
    except StopIteration as stop:
        return asked, stop.value


def test_a_step_by_step_answer_that_agrees_with_the_probe_settles() -> None:
    program = sample("7", "```python\nanswer = 7\n```")
    asked, decision = drive("cot@1 > 4@1", [[sample("7")]], program)
    assert asked == [Draw(1, True, 1)]  # the program is not drawn again
    assert decision.answer == "7" and decision.votes == {"7": 2.0}
    assert decision.samples[0] is program  # it is among the samples the answer rests on


def test_a_step_by_step_answer_that_disagrees_with_the_probe_climbs_to_votes() -> None:
    program = sample("7", "```python\nanswer = 7\n```")
    votes = [sample("7"), sample("7"), sample("9"), sample("7")]
    asked, decision = drive("cot@1 > 4@1", [[sample("8")], votes], program)
    assert asked == [Draw(1, True, 1), Draw(1, False, 4)]
    assert decision.answer == "7" and decision.votes == {"7": 4.0, "8": 1.0, "9": 1.0}
    assert decision.trace[0]["settled"] is False and decision.trace[0]["pooled"] == 2


def test_a_plan_that_opens_with_the_probe_is_served_it_and_draws_nothing() -> None:
    program = sample("7", "```python\nanswer = 7\n```")
    asked, decision = drive("pot@1 > cot@1", [], program)
    assert asked == [] and decision.answer == "7" and decision.samples == [program]
    asked, decision = drive("g+2@1 pot", [[sample("7"), sample("8")]], program)
    assert asked == [Draw(1, False, 2, program=True)]  # its greedy program is the probe
    assert decision.votes == {"7": 2.0, "8": 1.0}


def test_the_probe_joins_its_own_tier_and_checks_without_a_second_draw() -> None:
    program = sample("7", "```python\nanswer = 7\n```")
    small = [sample("6"), sample("5"), sample("6")]  # tier 0 splits: climb
    asked, decision = drive("g+2@0 > cot@1", [small[:1], small[1:], [sample("7")]], program)
    assert asked == [Draw(0, True, 1), Draw(0, False, 2), Draw(1, True, 1)]
    assert decision.answer == "7" and decision.votes == {"7": 2.0}
    asked, decision = drive("g+2@0 check@1", [small[:1], [*small[1:2], sample("7")]], program)
    assert asked == [Draw(0, True, 1), Draw(0, False, 2)]  # the check reuses the probe
    assert decision.answer == "7"


def test_without_a_probe_nothing_changes() -> None:
    asked, decision = drive("cot@1 > 4@1", [[sample("8")]], None)
    assert asked == [Draw(1, True, 1)] and decision.answer == "8"


def _coder(text: str, params: SamplingParams, k: int) -> dict[str, object]:
    """The greedy program says 12; step by step says 12 greedily and 13 at temperature."""
    if PROGRAM_INSTRUCTION in text:
        return {"text": "```python\nanswer = 12\n```", "logprob": -0.1}
    value = 12 if params.temperature == 0.0 else 13
    return {"text": f"So it is {value}.\nAnswer: {value}", "logprob": -0.4}


def test_live_auto_counts_the_probe_in_the_plans_vote() -> None:
    """The 1.5B's router left with one plan, ``g+2@0``, after its program probe: two
    sampled votes for 13 against the greedy answer and the program, both 12."""
    data = json.loads(TOP_ROUTER.read_text(encoding="utf-8"))
    data["plans"] = [p for p in data["plans"] if p["name"] == "g+2@0"]
    router = router_from_dict(data)
    backend = ScriptedBackend(_coder, model="coder")
    result = asyncio.run(
        AutoStrategy(AutoOptions(), router=router).solve("What is 5 + 7?", backend)
    )
    assert result.trace[0]["plan"] == "g+2@0"
    assert result.answer == "12" and result.votes == {"12": 2.0, "13": 2.0}
    assert result.usage.samples == 4  # the probe, the greedy answer and two votes


STEP = probe_request("cot@0")


def test_a_step_by_step_probe_is_never_taken_for_the_tiers_program() -> None:
    """A ``cot@0`` probe (the default) says 7; the plan's greedy program says 9, a sampled
    one 5, and step-by-step votes 9, 9 and 4: the check confirms the 9s by the greedy
    program. The probe votes and serves the second stage's greedy answer, but a prose
    answer is not the tier's program and a check never compares with it."""
    coded = [sample("9", "```python\nanswer = 9\n```"), sample("5", "```python\nanswer = 5\n```")]
    replies = [coded[:1], coded[1:], [sample("9"), sample("9"), sample("4")]]
    asked, decision = drive("g+1@0 pot > g+3@0 check@0", replies, sample("7"), STEP)
    assert asked == [Draw(0, True, 1, True), Draw(0, False, 1, True), Draw(0, False, 3)]
    assert decision.answer == "9" and decision.trace[-1]["check_score"] == 1.0


def test_a_greedy_program_a_check_drew_is_not_drawn_again() -> None:
    program = sample("9", "```python\nanswer = 9\n```")
    votes = [sample("4"), sample("5"), sample("6"), sample("4")]
    asked, decision = drive("4@0 check@1 > pot@1", [votes, [program]], None)
    assert asked == [Draw(0, False, 4), Draw(1, True, 1, True)]  # one draw, not two
    assert decision.answer == "9" and len(decision.samples) == 5


def _step_probe_coder(text: str, params: SamplingParams, k: int) -> dict[str, object]:
    """Greedy step by step says 7; the greedy program 9, a sampled one 5; sampled step by
    step says 9, 9, 4 in turn."""
    if PROGRAM_INSTRUCTION in text:
        value = 9 if params.temperature == 0.0 else 5
        return {"text": f"```python\nanswer = {value}\n```", "logprob": -0.1}
    value = 7 if params.temperature == 0.0 else (9, 9, 4)[k % 3]
    return {"text": f"So it is {value}.\nAnswer: {value}", "logprob": -0.4}


def test_live_auto_with_a_step_by_step_probe_checks_against_the_program() -> None:
    """A router a user trained with the default probe (``cot@0``) over the 1.5B's checked
    plans: the check confirms the votes that agree with the greedy program, not with the
    probe's prose answer."""
    data = json.loads(TOP_ROUTER.read_text(encoding="utf-8"))
    data["probe"] = "cot@0"
    data["plans"] = [p for p in data["plans"] if p["name"] == "g+1@0 pot > g+3@0 check@0"]
    router = router_from_dict(data)
    backend = ScriptedBackend(_step_probe_coder, model="coder")
    result = asyncio.run(
        AutoStrategy(AutoOptions(), router=router).solve("What is 4 + 5?", backend)
    )
    assert result.answer == "9"
    assert result.trace[-1]["check_score"] == 1.0


def test_the_trace_tells_drawn_samples_from_served_ones() -> None:
    program = sample("7", "```python\nanswer = 7\n```")
    _, decision = drive("cot@1 > 4@1", [[sample("7")]], program)
    assert (decision.trace[0]["drawn"], decision.trace[0]["served"]) == (1, 1)
    _, decision = drive("pot@1 > cot@1", [], program)
    assert (decision.trace[0]["drawn"], decision.trace[0]["served"]) == (0, 1)
