"""A router that routes after the largest tier's greedy program and reads what it showed.

On real word problems the 1.5B model's greedy program is right about 80% of the time
when its result is a whole number and almost never when it is not; a router that reads
the program before choosing spends votes only where the program looks wrong."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.scripted import ScriptedBackend
from ponder.cascade import Draw, parse_plan, probe_request
from ponder.cli.main import cli
from ponder.errors import ConfigError, DataError
from ponder.eval.datasets import Item
from ponder.eval.pools import load_pools
from ponder.eval.replay import plan_evaluator, replay
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.routing.compare import router_point
from ponder.routing.features import PROBE_FEATURES, probe_features
from ponder.routing.router_file import router_from_dict
from ponder.routing.training import train_router
from ponder.strategies.auto import AutoOptions, AutoStrategy
from ponder.types import Sample, SamplingParams

# Same-looking questions. On the "odd" ones every program computes the same fraction (and
# is wrong) while step-by-step votes at temperature are mostly right; on the others the
# greedy program is right and votes do worse. Only the program's result tells them
# apart: its programs agree with each other either way.
ITEMS = [
    Item(f"q{i}", f"What is {30 + i} + {40 + 2 * i}?", str(70 + 3 * i), "number") for i in range(24)
]
ODD = {item.question for item in ITEMS[::2]}


def _coder(text: str, params: SamplingParams, k: int) -> dict[str, object]:
    item = next(i for i in ITEMS if i.question in text)
    gold, odd = int(item.answer), item.question in ODD
    program = PROGRAM_INSTRUCTION in text
    if params.temperature == 0.0:
        right, value = not odd, f"{gold} / 2 + 0.5" if odd else str(gold)
    elif program and odd:  # the sampled programs share the greedy one's mistake
        right, value = False, f"{gold} / 2 + 0.5"
    else:
        right = random.Random(f"{text}:{k}").random() < (0.75 if odd else 0.3)
        value = str(gold if right else gold + random.Random(f"{text}:{k}:w").choice((1, 2, 3)))
    if program:
        return {"text": f"```python\nanswer = {value}\n```", "logprob": -0.3}
    shown = gold if right else gold + 1
    return {"text": f"Adding them gives {shown}.\nAnswer: {shown}", "logprob": -0.3}


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    store = SampleStore(tmp_path_factory.mktemp("run"))
    backend = ScriptedBackend(_coder, model="coder", active_params=1e9)
    specs = ["sample:n=4", "sample:n=4,program=true"]
    asyncio.run(run_eval(ITEMS, backend, specs, store, model="scripted:coder"))
    return load_pools(store.records())


def test_a_probe_is_one_greedy_draw_on_a_tier() -> None:
    assert probe_request("pot@1") == Draw(1, True, 1, program=True)
    assert probe_request("cot@0") == Draw(0, True, 1)
    for bad in ("g+2@0", "pot@0 > cot@1", "4@0 calc", "g+2@1 check@1", "nonsense"):
        with pytest.raises(ConfigError, match="probe"):
            probe_request(bad)


def test_probe_features_say_whether_the_answer_is_a_whole_number() -> None:
    def whole(answer: str | None) -> float:
        sample = Sample("x", "r", completion_tokens=3, answer=answer)
        return dict(zip(PROBE_FEATURES, probe_features(sample), strict=True))["probe_whole"]

    assert [whole(a) for a in ("36", "1,200", "7.0", "-3", "12.5", "0.25", None, "blue")] == [
        1.0,
        1.0,
        1.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
    ]


def test_the_program_probe_is_paid_for_and_reused_by_a_plan_that_opens_with_it(pools) -> None:
    def tokens(plan: str, probed: bool | str) -> float:
        [point] = replay(pools, {"p": plan_evaluator(parse_plan(plan), probed)}, reps=2)
        return point.tokens

    assert tokens("pot@0", "pot@0") == tokens("pot@0", False)
    assert tokens("g+2@0 pot", "pot@0") == tokens("g+2@0 pot", False)
    assert tokens("cot@0 check@0", "pot@0") == tokens("cot@0 check@0", False)
    assert tokens("cot@0", "pot@0") == pytest.approx(
        tokens("cot@0", False) + tokens("pot@0", False)
    )


def test_a_program_probe_router_climbs_when_the_program_looks_wrong(pools) -> None:
    router = train_router(pools, reps=4, probe="pot@0", budget=3.0)
    assert router.probe == "pot@0"
    sure, odd = ITEMS[1], ITEMS[0]
    program = {i.id: pools.programs[pools.tiers[0].model][i.id].greedy for i in (sure, odd)}
    calm = router.choose(sure.question, 1, probe=program[sure.id])
    climbs = router.choose(odd.question, 1, probe=program[odd.id])
    assert climbs.max_samples > calm.max_samples
    with pytest.raises(ConfigError, match="greedy program on tier 0"):
        router.choose(sure.question, 1)
    again = router_from_dict(json.loads(json.dumps(router.to_dict())))
    assert again.probe == "pot@0"
    assert again.choose(odd.question, 1, probe=program[odd.id]) == climbs


def test_cross_validated_program_probe_beats_text_only_at_the_same_budget(pools) -> None:
    text = router_point(pools, 3.0, folds=3, reps=4)
    probed = router_point(pools, 3.0, folds=3, reps=4, probe="pot@0")
    [direct] = replay(pools, {"cot@0": plan_evaluator(parse_plan("cot@0"))}, reps=4)
    assert probed.accuracy > text.accuracy + 0.1
    assert probed.dollars <= 3.0 * direct.dollars and probed.dollars < text.dollars


def test_live_auto_draws_the_program_probe_once_and_reuses_it(pools) -> None:
    router = train_router(pools, reps=4, probe="pot@0", budget=3.0)
    auto = AutoStrategy(AutoOptions(), router=router)
    for item in ITEMS[:4]:
        backend = ScriptedBackend(_coder, model="coder")
        result = asyncio.run(auto.solve(item.question, backend))
        greedy_programs = [
            c
            for c in backend.calls
            if c["params"].temperature == 0.0 and PROGRAM_INSTRUCTION in str(c["messages"])
        ]
        assert len(greedy_programs) == 1  # drawn once, reused by a plan that opens with it
        assert result.usage.samples == sum(c["n"] for c in backend.calls)
        assert result.trace[0]["by"] == "router, after a greedy program on tier 0"
    sure = asyncio.run(auto.solve(ITEMS[1].question, ScriptedBackend(_coder, model="coder")))
    assert sure.answer == ITEMS[1].answer and sure.usage.samples == 1
    assert sure.trace[0]["probe"]["probe_whole"] == 1.0


def small_run(where: Path, specs: list[str]) -> list[str]:
    """Eight items stored under ``where`` with ``specs``; the CLI's training arguments."""
    store = SampleStore(where / "run")
    backend = ScriptedBackend(_coder, model="coder", active_params=1e9)
    asyncio.run(run_eval(ITEMS[:8], backend, specs, store, model="scripted:coder"))
    return ["router", "train", str(where / "run"), "--out", str(where / "r.json"), "--reps", "2"]


def test_a_router_file_with_a_bad_probe_names_it(tmp_path: Path) -> None:
    small_run(tmp_path, ["sample:n=2"])
    router = train_router(load_pools(SampleStore(tmp_path / "run").records()), reps=2, probe=True)
    data = router.to_dict()
    for bad in ("g+2@0", 3, "pot@7"):
        with pytest.raises(DataError, match="probe"):
            router_from_dict({**data, "probe": bad})
    assert router_from_dict({**data, "probe": True}).probe == "cot@0"  # an older file


def test_cli_trains_a_program_probe_router(tmp_path: Path) -> None:
    args = small_run(tmp_path, ["sample:n=2", "sample:n=2,program=true"])
    done = CliRunner().invoke(cli, [*args, "--probe", "pot@0"])
    assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "r.json").read_text())["probe"] == "pot@0"
    bad = CliRunner().invoke(cli, [*args, "--probe", "g+2@0"])
    assert bad.exit_code != 0 and "probe" in bad.output and "Traceback" not in bad.output


def test_a_probe_only_router_reads_the_probe_and_not_the_text(pools) -> None:
    """With few training questions, the question's text features let a probe router fit
    noise; ``text=False`` keeps its plan models on what the probe showed."""
    router = train_router(pools, reps=4, probe="pot@0", budget=3.0, text=False)
    assert router.feature_names == PROBE_FEATURES and not router.text
    assert all(len(p.coef) == len(PROBE_FEATURES) for p in router.plans)
    sure, odd = ITEMS[1], ITEMS[0]
    program = {i.id: pools.programs[pools.tiers[0].model][i.id].greedy for i in (sure, odd)}
    climbs = router.choose(odd.question, 1, probe=program[odd.id])
    calm = router.choose(sure.question, 1, probe=program[sure.id])
    assert climbs != calm and not any(stage.program for stage in climbs.stages)
    again = router_from_dict(json.loads(json.dumps(router.to_dict())))
    assert not again.text and again.choose(odd.question, 1, probe=program[odd.id]) == climbs
    probed = router_point(pools, 3.0, folds=3, reps=4, probe="pot@0", text=False)
    assert probed.accuracy > 0.85
    with pytest.raises(ConfigError, match="probe"):
        train_router(pools, reps=2, text=False)
    with pytest.raises(DataError, match="probe"):
        router_from_dict({**router.to_dict(), "probe": False, "features": []})


def test_cli_trains_a_probe_only_router(tmp_path: Path) -> None:
    args = small_run(tmp_path, ["sample:n=2", "sample:n=2,program=true"])
    done = CliRunner().invoke(cli, [*args, "--probe", "pot@0", "--probe-only"])
    assert done.exit_code == 0, done.output
    assert json.loads((tmp_path / "r.json").read_text())["features"] == list(PROBE_FEATURES)
    bad = CliRunner().invoke(cli, [*args, "--probe-only"])
    assert bad.exit_code != 0 and "--probe" in bad.output and "Traceback" not in bad.output
