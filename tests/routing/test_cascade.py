import pytest

from ponder.cascade import Draw, Plan, Stage, parse_plan, run_plan
from ponder.errors import ConfigError
from ponder.strategies.verifiers import calc_of
from ponder.types import Sample


def samples(*answers, temperature=0.7):
    return [Sample(f"Answer: {a}", "r", answer=a, temperature=temperature) for a in answers]


def drive(plan, replies):
    """Run a plan, answering each Draw from ``replies`` (a list of answer lists)."""
    steps, requests = run_plan(plan), []
    try:
        request = next(steps)
        while True:
            requests.append(request)
            request = steps.send(samples(*replies.pop(0)))
    except StopIteration as stop:
        return stop.value, requests


@pytest.mark.parametrize("text", ["cot@0", "g+2@0 > cot@1", "4+4@0 ~0.75 > cot@1", "g+4@1", "8@0"])
def test_plan_names_round_trip(text):
    plan = parse_plan(text)
    assert plan.name == text
    assert Plan.from_dict(plan.to_dict()) == plan


def test_bad_plans_are_config_errors():
    for text in ("", "cot", "g+x@0", "cot@0 >"):
        with pytest.raises(ConfigError):
            parse_plan(text)
    with pytest.raises(ConfigError, match="must draw something"):
        Stage(0, greedy=False, n=0)
    with pytest.raises(ConfigError, match="agree"):
        Stage(0, n=2, agree=0.0)
    with pytest.raises(ConfigError, match="at least one stage"):
        Plan(())
    with pytest.raises(ConfigError, match="list of 'stages'"):
        Plan.from_dict({"stages": 3})


def test_agreement_stops_at_the_first_stage():
    decision, requests = drive(parse_plan("g+2@0 > cot@1"), [["5"], ["5", "5"]])
    assert requests == [Draw(0, True, 1), Draw(0, False, 2)]
    assert (decision.answer, decision.tier, decision.confidence) == ("5", 0, 1.0)
    assert decision.trace[0]["settled"] is True


def test_disagreement_escalates_to_the_next_tier():
    decision, requests = drive(parse_plan("g+2@0 > cot@1"), [["5"], ["5", "6"], ["7"]])
    assert requests[-1] == Draw(1, True, 1)
    assert (decision.answer, decision.tier) == ("7", 1)
    assert len(decision.samples) == 4
    assert [t["settled"] for t in decision.trace] == [False, True]


def test_extra_samples_settle_a_split_vote_before_escalating():
    decision, requests = drive(
        parse_plan("4+4@0 ~0.6 > cot@1"), [["1", "1", "2", "3"], ["1", "1", "1", "1"]]
    )
    assert requests == [Draw(0, False, 4), Draw(0, False, 4)]
    assert decision.answer == "1" and decision.confidence == 0.75 and decision.tier == 0


def test_last_stage_answers_even_when_unsettled_and_no_answer_escalates():
    decision, _ = drive(parse_plan("2@0"), [["1", "2"]])
    assert decision.answer == "1" and decision.confidence == 0.5
    decision, requests = drive(parse_plan("cot@0 > cot@1"), [[None], ["9"]])
    assert len(requests) == 2 and decision.answer == "9"


def worked(*pairs):
    """Samples that show their work: (equation text, answer)."""
    return [Sample(f"{work}\nAnswer: {a}", "r", answer=a, temperature=0.7) for work, a in pairs]


def test_a_calc_stage_lets_the_verifier_pick_over_the_vote():
    question = "Ana has 16 books. Then they get 2 more books. How many books now?"
    drawn = worked(("16 + 2 = 19", "19"), ("16 + 2 = 19", "19"), ("16 + 2 = 18", "18"))
    for text, answer in (("3@0", "19"), ("3@0 calc", "18")):
        steps = run_plan(parse_plan(text), calc_of(question))
        assert next(steps) == Draw(0, False, 3)
        with pytest.raises(StopIteration) as stop:
            steps.send(drawn)
        decision = stop.value.value
        assert decision.answer == answer
        assert decision.confidence == pytest.approx(2 / 3 if answer == "19" else 1 / 3)
    assert decision.trace[0]["pick"] == "calc"


def test_calc_stages_name_round_trip_and_need_several_samples():
    for text in ("8@1 calc", "4+4@1 ~0.75 calc", "g+2@0 > g+4@1 calc"):
        plan = parse_plan(text)
        assert plan.name == text
        assert Plan.from_dict(plan.to_dict()) == plan
    assert parse_plan("8@1").stages[0].pick == "vote"
    old = Plan.from_dict({"stages": [{"tier": 0, "greedy": False, "n": 2}]})  # before picks
    assert old.stages[0].pick == "vote"
    with pytest.raises(ConfigError, match="calc"):
        parse_plan("cot@0 calc")
    with pytest.raises(ConfigError, match="pick"):
        Stage(0, False, 4, pick="judge")
    with pytest.raises(ConfigError, match="pick"):
        Plan.from_dict({"stages": [{"tier": 0, "greedy": False, "n": 2, "pick": 3}]})


@pytest.mark.parametrize("text", ["g+7@0 check@1", "4+4@0 ~0.75 check@1 > g+3@1 check@1"])
def test_check_stages_round_trip(text):
    plan = parse_plan(text)
    assert plan.name == text
    assert Plan.from_dict(plan.to_dict()) == plan
    assert plan.max_tier == 1


def test_a_check_stage_picks_the_answer_the_larger_tiers_program_confirms():
    # 8 votes on tier 0 split 5:3 for 17; tier 1's greedy program says 18
    decision, requests = drive(
        parse_plan("g+7@0 check@1"), [["17"], ["17"] * 4 + ["18"] * 3, ["18"]]
    )
    assert requests == [Draw(0, True, 1), Draw(0, False, 7), Draw(1, True, 1, True)]
    assert decision.answer == "18"
    assert decision.trace[0]["pick"] == "check"
    assert len(decision.samples) == 9  # the program is paid for and kept


def test_a_check_no_sample_confirms_falls_back_to_the_vote():
    decision, _ = drive(parse_plan("g+3@0 check@1"), [["5"], ["5", "5", "6"], ["9"]])
    assert decision.answer == "5"


def test_a_check_reuses_the_greedy_program_drawn_before_it():
    plan = parse_plan("g+1@1 pot > g+3@1 check@1")
    decision, requests = drive(plan, [["4"], ["5"], ["5"], ["4", "5", "4"]])
    assert requests == [
        Draw(1, True, 1, True),
        Draw(1, False, 1, True),
        Draw(1, True, 1),
        Draw(1, False, 3),
    ]
    assert decision.answer == "4"  # the greedy program said 4: no second program drawn
    assert decision.trace[-1]["check_score"] == 1.0  # a step-by-step sample confirmed it


def test_a_check_stage_settles_only_on_an_answer_its_program_confirms():
    # one greedy answer on tier 1, checked by tier 1's greedy program: when they agree the
    # plan stops there; when they differ it draws the votes, and the program is reused
    plan = parse_plan("cot@1 check@1 > 4@1 check@1")
    agreed, requests = drive(plan, [["12"], ["12"]])
    assert requests == [Draw(1, True, 1), Draw(1, True, 1, True)]
    assert (agreed.answer, agreed.confidence) == ("12", 1.0)
    assert [t["settled"] for t in agreed.trace] == [True]
    differed, requests = drive(plan, [["12"], ["15"], ["15", "12", "15", "9"]])
    assert requests == [Draw(1, True, 1), Draw(1, True, 1, True), Draw(1, False, 4)]
    assert [t["plan_stage"] for t in differed.trace] == ["cot@1 check@1", "4@1 check@1"]
    assert differed.answer == "15"  # the last stage's pick stands, settled or not
    assert len(differed.samples) == 6


def test_an_unconfirmed_check_stage_draws_its_extra_votes_even_when_they_agree():
    plan = parse_plan("4+4@0 ~0.75 check@1 > cot@1")
    decision, requests = drive(plan, [["5", "5", "5", "5"], ["6"], ["6", "5", "5", "5"], ["6"]])
    assert requests[2] == Draw(0, False, 4)  # all four agreed on 5, but the program says 6
    assert decision.tier == 1 and decision.answer == "6"


def test_bad_check_stages_are_config_errors():
    with pytest.raises(ConfigError, match="check"):
        Stage(0, n=4, pick="check")
    with pytest.raises(ConfigError, match="check"):
        Stage(0, n=4, pick="check", check=1, prompt="program")
    with pytest.raises(ConfigError, match="check"):
        parse_plan("8@0 check@x")
    with pytest.raises(ConfigError, match="tier number"):
        Plan.from_dict({"stages": [{"n": 4, "pick": "check", "check": "1"}]})


def test_a_program_pooled_from_an_earlier_stage_does_not_confirm_itself():
    plan = parse_plan("g+1@1 pot > g+3@1 check@1")
    decision, _ = drive(plan, [["4"], ["5"], ["6"], ["7", "7", "7"]])
    assert decision.answer == "7"  # no step-by-step sample says 4: the pooled vote decides


async def test_auto_runs_a_check_plan_live_and_pays_for_the_larger_tiers_program():
    from ponder import Ladder, ScriptedBackend, make_strategy
    from ponder.answers.program import PROGRAM_INSTRUCTION

    question = "Amara has 58 cookies. She sells 19, then 6 more. How many are left?"
    votes = ["Answer: 35", "Answer: 35", "Answer: 33"]
    small = ScriptedBackend(lambda q, p, k: votes[k % 3], model="small", active_params=1e8)

    def coder(text, params, k):
        return "```python\nanswer = 58 - 19 - 6\n```" if PROGRAM_INSTRUCTION in text else "x"

    big = ScriptedBackend(coder, model="big", active_params=1e9)
    auto = make_strategy("auto:plan=g+2@0 check@1")
    result = await auto.solve(question, Ladder([small, big]))
    assert result.answer == "33"  # the vote said 35; the larger tier's program confirmed 33
    assert len(big.calls) == 1 and result.usage.samples == 4


async def test_auto_stops_after_the_greedy_answer_when_its_own_program_agrees():
    from ponder import Ladder, ScriptedBackend, make_strategy
    from ponder.answers.program import PROGRAM_INSTRUCTION

    question = "Amara has 58 cookies. She sells 19, then 6 more. How many are left?"

    def coder(text, params, k):
        if PROGRAM_INSTRUCTION in text:
            return "```python\nanswer = 58 - 19 - 6\n```"
        return "58 - 19 - 6 = 33\nAnswer: 33"

    small = ScriptedBackend(lambda q, p, k: "Answer: 30", model="small", active_params=1e8)
    big = ScriptedBackend(coder, model="big", active_params=1e9)
    auto = make_strategy("auto:plan=cot@1 check@1 > 4@1 check@1")
    result = await auto.solve(question, Ladder([small, big]))
    assert result.answer == "33"
    assert result.usage.samples == 2  # the greedy answer and the program; no votes drawn
    assert not small.calls
