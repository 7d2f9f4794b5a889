"""Program of thought as a strategy, a plan stage, a sampling mode and replayed pools,
driven as a user drives them: the CLI, the eval runner, the router's replay."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ponder.answers.program import PROGRAM_INSTRUCTION, PROGRAM_STOP, run_program
from ponder.backends.scripted import ScriptedBackend
from ponder.cascade import Draw, Plan, Stage, parse_plan, run_plan
from ponder.cli.main import cli
from ponder.errors import ConfigError, DataError
from ponder.eval.datasets import Item
from ponder.eval.pools import load_pools
from ponder.eval.replay import plan_evaluator, standard_evaluators, strategy_evaluator
from ponder.eval.runner import is_program, run_eval
from ponder.eval.store import SampleStore
from ponder.routing.catalogue import candidate_plans, fits, pool_plans
from ponder.strategies import make_strategy
from ponder.strategies.base import annotate
from ponder.types import Sample, SamplingParams, as_question

PROGRAM = "```python\nsold = 19 + 6\nanswer = 58 - sold\n```"
WRONG_PROSE = "58 - 19 = 39, and 39 - 6 = 35.\nAnswer: 35"
QUESTION = "Amara has 58 cookies. She sells 19 cookies, then 6 more. How many are left?"


def program_or_prose(text: str, params: SamplingParams, n: int) -> str:
    """A fake coder model: right when asked for a program, wrong in prose."""
    return PROGRAM if PROGRAM_INSTRUCTION in text else WRONG_PROSE


@pytest.mark.parametrize(
    "text", ["pot@0", "8@1 pot", "g+2@0 pot > 8@0", "4+4@1 ~0.75 pot", "g+2@0 > g+2@1 pot"]
)
def test_program_stages_round_trip(text: str) -> None:
    plan = parse_plan(text)
    assert plan.name == text
    assert Plan.from_dict(plan.to_dict()) == plan
    assert any(stage.program for stage in plan.stages)


def test_program_stages_ask_for_programs_and_refuse_calc() -> None:
    steps = run_plan(parse_plan("g+2@0 pot > 4@0"))
    requests = [next(steps)]
    wrong = [Sample("a", "r", answer="1"), Sample("b", "r", answer="2")]
    requests.append(steps.send([Sample("p", "r", answer="3")]))
    requests.append(steps.send(wrong))
    assert requests == [Draw(0, True, 1, True), Draw(0, False, 2, True), Draw(0, False, 4)]
    with pytest.raises(ConfigError, match="program stage"):
        Stage(0, False, 4, pick="calc", prompt="program")
    with pytest.raises(ConfigError, match="prompt"):
        Plan.from_dict({"stages": [{"tier": 0, "greedy": True, "prompt": "poem"}]})
    old = Plan.from_dict({"stages": [{"tier": 0, "greedy": False, "n": 2}]})  # before prompts
    assert not old.stages[0].program


def test_pot_on_the_cli_answers_with_the_programs_result(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"cookies": [PROGRAM]}))
    result = CliRunner().invoke(
        cli, ["ask", QUESTION, "-m", f"scripted:{script}", "-s", "pot", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "33" and data["strategy"] == "pot"
    sc = CliRunner().invoke(
        cli,
        ["ask", QUESTION, "-m", f"scripted:{script}", "-s", "sc:n=3,program=true", "--json"],
    )
    assert sc.exit_code == 0, sc.output
    assert json.loads(sc.output)["votes"] == {"33": 3.0}


def test_auto_runs_program_stages_live_with_the_program_prompt() -> None:
    backend = ScriptedBackend(program_or_prose)
    strategy = make_strategy("auto:plan=g+2@0 pot > 8@0")
    result = asyncio.run(strategy.solve(QUESTION, backend))
    assert result.answer == "33"
    assert result.usage.samples == 3  # the three programs agree: no prose vote
    assert result.trace[1]["plan_stage"] == "g+2@0 pot"
    prose = asyncio.run(make_strategy("auto:plan=g+2@0").solve(QUESTION, backend))
    assert prose.answer == "35"
    assert strategy.work().samples >= 11  # the bound counts the program stage


def test_program_requests_stop_at_the_end_of_the_code_block() -> None:
    seen: list[tuple[str, ...]] = []

    def script(text: str, params: SamplingParams, n: int) -> str:
        seen.append(params.stop)
        return program_or_prose(text, params, n)

    backend = ScriptedBackend(script)
    for spec in ("pot", "sc:n=2,program=true", "bon:n=2,program=true", "auto:plan=pot@0"):
        seen.clear()
        asyncio.run(make_strategy(spec).solve(QUESTION, backend))
        assert seen and set(seen) == {PROGRAM_STOP}, spec
    seen.clear()

    def split(text: str, params: SamplingParams, n: int) -> str:
        seen.append(params.stop)
        return f"```python\nanswer = {len(seen)}\n```" if params.stop else WRONG_PROSE

    asyncio.run(
        make_strategy("auto:plan=g+2@0 pot > cot@0").solve(QUESTION, ScriptedBackend(split))
    )
    assert seen[0] == PROGRAM_STOP and seen[-1] == ()  # programs disagree; prose has no stop
    seen.clear()
    asyncio.run(make_strategy("sc:n=2").solve(QUESTION, backend))
    assert set(seen) == {()}


def test_a_program_sample_that_was_cut_off_or_breaks_the_rules_abstains() -> None:
    loops = "```python\nwhile True:\n    answer = 1\n```"
    cut = Sample(PROGRAM, "r", finish_reason="length")  # reads as a program, but was cut
    annotate([cut], as_question(QUESTION), program=True)
    assert cut.truncated and cut.answer is None
    long = "```python\n" + "x = 1\n" * 10 + "answer = 4\n```"
    backend = ScriptedBackend([long, loops, PROGRAM])
    spec = "sc:n=3,program=true,max_tokens=20"
    result = asyncio.run(make_strategy(spec).solve("q", backend))
    assert [s.answer for s in result.samples] == [None, None, "33"]
    assert result.answer == "33"


def _records(tmp_path: Path) -> list[dict[str, Any]]:
    items = [
        Item(f"w{i}", f"{QUESTION} ({i})", "33", kind="number", difficulty="1", suite="word")
        for i in range(4)
    ]
    store = SampleStore(tmp_path / "run")
    backend = ScriptedBackend(program_or_prose)
    for spec in ("sample:n=4", "sample:n=4,program=true"):
        asyncio.run(run_eval(items, backend, [spec], store, model="scripted"))
    return list(store.records())


def test_the_sampling_mode_stores_program_pools_that_replay_keeps_apart(
    tmp_path: Path,
) -> None:
    records = _records(tmp_path)
    assert {is_program(r["strategy"]) for r in records} == {True, False}
    programs = [r for r in records if is_program(r["strategy"])]
    for record in programs:
        assert all(s["answer"] == run_program(s["text"]) == "33" for s in record["samples"])
        assert PROGRAM_INSTRUCTION not in json.dumps(record["item"])
    pools = load_pools(records)
    assert len(pools.tiers) == 1 and pools.has_programs(0)
    assert pools.pool(0, "w0").greedy.answer == "35"
    assert pools.pool(0, "w0", program=True).greedy.answer == "33"
    evaluators = standard_evaluators(pools)
    rng = random.Random(0)
    assert evaluators["pot@scripted"](pools, "w0", rng).correct
    assert evaluators["sc:n=4,program=true@scripted"](pools, "w0", rng).correct
    assert not evaluators["sc:n=4@scripted"](pools, "w0", rng).correct
    mixed = plan_evaluator(parse_plan("g+2@0 pot > 2@0"))(pools, "w1", rng)
    assert mixed.correct and mixed.spend.samples == 3
    names = [p.name for p in pool_plans(pools)]
    assert "8@0 pot" not in names and "g+2@0 pot" in names  # 4 programs stored, not 8


def test_without_program_pools_no_program_plan_is_offered(tmp_path: Path) -> None:
    records = [r for r in _records(tmp_path) if not is_program(r["strategy"])]
    pools = load_pools(records)
    assert not pools.has_programs(0)
    assert not any(s.program for p in pool_plans(pools) for s in p.stages)
    assert "pot@0" not in [p.name for p in candidate_plans(2, [16, 16])]
    assert not fits(parse_plan("pot@1"), [16, 16], [16, 0])
    assert fits(parse_plan("pot@1 > 8@1"), [16, 16], [0, 16])
    assert not fits(parse_plan("g+7@0 check@1"), [16, 16], [16, 0])  # tier 1 writes none
    assert fits(parse_plan("g+7@0 check@1"), [16, 16], [0, 1])
    assert not any("check" in p.name for p in candidate_plans(2, [16, 16]))
    with pytest.raises(DataError, match="no program samples"):
        pools.pool(0, "w0", program=True)
    only = [r for r in _records(tmp_path / "again") if is_program(r["strategy"])]
    with pytest.raises(DataError, match="only program samples"):
        load_pools(only)


def test_one_tier_with_programs_gets_the_check_first_plans_on_it() -> None:
    names = [p.name for p in candidate_plans(1, [4], programs=[4])]
    assert "cot@0 check@0 > 4@0 check@0" in names  # greedy answer and program, votes if they differ
    assert "g+1@0 pot > 4@0 check@0" in names
    assert all(p.max_tier == 0 for p in candidate_plans(1, [4], programs=[4]))
    assert not any("check" in n for n in [p.name for p in candidate_plans(1, [4], programs=[0])])


def _ask(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ponder.cli.main", "ask", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.model
def test_pot_on_the_embedded_model_reads_its_program_not_its_prose() -> None:
    proc = _ask(
        "Tom has 3 apples and buys 4 more. How many apples does he have?",
        "-s",
        "pot",
        "--max-tokens",
        "96",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["strategy"] == "pot"
    sample = data["samples"][0]
    expected = None if sample["finish_reason"] == "length" else run_program(sample["text"])
    assert data["answer"] == expected


def _two_tier_records(tmp_path: Path) -> list[dict[str, Any]]:
    """A small tier whose prose votes 35, 35, 33 (the vote is wrong) and a large one
    whose programs are right."""
    items = [Item(f"w{i}", f"{QUESTION} ({i})", "33", kind="number") for i in range(3)]
    store = SampleStore(tmp_path / "run")
    votes = ["Answer: 35", "Answer: 35", "Answer: 33"]
    small = ScriptedBackend(lambda q, p, k: votes[k % 3], model="small", active_params=1e8)
    large = ScriptedBackend(program_or_prose, model="large", active_params=1e9)
    for backend, specs in ((small, ["sample:n=3"]), (large, ["sample:n=3", PROGRAM_SPEC])):
        for spec in specs:
            asyncio.run(run_eval(items, backend, [spec], store, model=backend.model))
    return list(store.records())


PROGRAM_SPEC = "sample:n=3,program=true"


def test_a_larger_tiers_program_checks_a_smaller_tiers_votes_in_replay(tmp_path: Path) -> None:
    pools = load_pools(_two_tier_records(tmp_path))
    assert [t.short for t in pools.tiers] == ["small", "large"]
    rng = random.Random(0)
    vote = plan_evaluator(parse_plan("g+2@0"))(pools, "w0", rng)
    checked = plan_evaluator(parse_plan("g+2@0 check@1"))(pools, "w0", rng)
    assert not vote.correct and checked.correct
    assert checked.spend.flops > vote.spend.flops  # the larger tier's program is paid for
    judge = pools.tiers[1].model
    bon = make_strategy(f"bon:n=3,scorer=crosscheck,judge={judge}")
    judged = strategy_evaluator(bon, 0, checker=1)(pools, "w1", rng)
    own = strategy_evaluator(make_strategy("bon:n=3"), 0)(pools, "w1", rng)
    assert judged.correct and judged.spend.flops > own.spend.flops
    names = [p.name for p in pool_plans(pools)]
    assert "g+7@0 check@1" not in names and "g+2@1 check@1" in names  # 3 stored, not 8
    with pytest.raises(DataError, match="asks no other tier"):
        strategy_evaluator(make_strategy("sc:n=3"), 0, checker=1)(pools, "w1", rng)
