"""A router that routes after a greedy probe and reads what it showed."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.cascade import parse_plan
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.pools import load_pools
from ponder.eval.replay import plan_evaluator, replay
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.routing.compare import folds_of, router_point
from ponder.routing.features import PROBE_FEATURES, probe_features
from ponder.routing.router_file import router_from_dict
from ponder.routing.training import train_router
from ponder.strategies.auto import AutoOptions, AutoStrategy
from ponder.types import Sample

# Same-looking questions; on the "unsure" ones the greedy sample is wrong and unsure of
# itself (low log-probability) while samples at temperature mostly get it right (on the
# others, votes do worse than the greedy sample). Only a
# probe can tell them apart.
ITEMS = [
    Item(f"p{i}", f"What is {40 + i} + {50 + i}?", str(90 + 2 * i), "number") for i in range(24)
]
UNSURE = {item.question for item in ITEMS[::2]}


def _answer(question: str, params, k: int) -> dict[str, object]:
    item = next(i for i in ITEMS if question.startswith(i.question))
    unsure = item.question in UNSURE
    gold = int(item.answer)
    if params.temperature == 0.0:
        value = gold + 1 if unsure else gold
        return {
            "text": f"So the sum is {value}. Answer: {value}",
            "logprob": -2.0 if unsure else -0.1,
        }
    right = random.Random(f"{question}:{k}").random() < (0.7 if unsure else 0.4)
    value = gold if right else gold + random.Random(f"{question}:{k}:w").choice((1, 2, 3))
    return {"text": f"So the sum is {value}. Answer: {value}", "logprob": -0.5}


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    store = SampleStore(tmp_path_factory.mktemp("run"))
    backend = ScriptedBackend(_answer, model="small", active_params=1e8)
    asyncio.run(run_eval(ITEMS, backend, ["sample:n=8"], store, model="scripted:small"))
    return load_pools(store.records())


def test_probe_features_read_the_greedy_sample() -> None:
    cut = Sample(
        "so far", "r", completion_tokens=7, finish_reason="length", token_logprobs=[-1.0, -2.0]
    )
    assert dict(zip(PROBE_FEATURES, probe_features(cut), strict=True)) == pytest.approx(
        {
            "probe_logprob": -1.5,
            "probe_truncated": 1.0,
            "probe_answered": 0.0,
            "probe_log_tokens": 2.0794415,
            "probe_whole": 0.0,
        }
    )
    done = Sample("Answer: 3", "r", completion_tokens=2, answer="3")
    assert probe_features(done)[1:3] == [0.0, 1.0]


def test_the_probe_is_paid_for_and_reused_by_a_plan_that_opens_with_it(pools) -> None:
    def tokens(plan: str, probed: bool) -> float:
        [point] = replay(pools, {"p": plan_evaluator(parse_plan(plan), probed)}, reps=2)
        return point.tokens

    assert tokens("cot@0", True) == tokens("cot@0", False)
    assert tokens("g+2@0", True) == tokens("g+2@0", False)
    assert tokens("8@0", True) == pytest.approx(tokens("8@0", False) + tokens("cot@0", False))


def test_a_probe_router_escalates_when_the_probe_is_unsure(pools) -> None:
    router = train_router(pools, reps=4, probe=True, budget=2.0)
    assert router.probe
    sure, unsure = ITEMS[1], ITEMS[0]
    greedy = {i.id: pools.pool(0, i.id).greedy for i in (sure, unsure)}
    calm = router.choose(sure.question, 1, probe=greedy[sure.id])
    assert router.choose(unsure.question, 1, probe=greedy[unsure.id]).max_samples > calm.max_samples
    with pytest.raises(ConfigError, match="greedy probe"):
        router.choose(sure.question, 1)
    again = router_from_dict(json.loads(json.dumps(router.to_dict())))
    assert again.probe and again.choose(unsure.question, 1, probe=greedy[unsure.id]) == (
        router.choose(unsure.question, 1, probe=greedy[unsure.id])
    )


def test_cross_validated_probe_router_beats_text_only_at_the_same_budget(pools) -> None:
    text = router_point(pools, 2.0, folds=3, reps=4)
    probed = router_point(pools, 2.0, folds=3, reps=4, probe=True)
    [direct] = replay(pools, {"cot@0": plan_evaluator(parse_plan("cot@0"))}, reps=4)
    assert probed.accuracy > text.accuracy + 0.1
    # both within the budget on questions they never saw (the text router may spend less)
    assert max(probed.dollars, text.dollars) <= 2.0 * direct.dollars


def test_live_auto_draws_the_probe_once_and_reuses_it(pools) -> None:
    router = train_router(pools, reps=4, probe=True, budget=2.0)
    auto = AutoStrategy(AutoOptions(), router=router)
    for item in ITEMS[:4]:
        backend = ScriptedBackend(_answer, model="small")
        result = asyncio.run(auto.solve(item.question, backend))
        greedy = [c for c in backend.calls if c["params"].temperature == 0.0]
        assert len(greedy) == 1  # drawn once, reused by a plan that opens with it
        assert result.usage.samples == sum(c["n"] for c in backend.calls)
    backend = ScriptedBackend(_answer, model="small")
    result = asyncio.run(auto.solve(ITEMS[1].question, backend))
    assert result.answer == ITEMS[1].answer
    assert result.trace[0]["by"].startswith("router, after a greedy probe")
    assert result.trace[0]["probe"]["probe_answered"] == 1.0
    unsure = asyncio.run(auto.solve(ITEMS[0].question, ScriptedBackend(_answer, model="small")))
    assert unsure.usage.samples > 1 and unsure.trace[0]["plan"] != "cot@0"


def test_cli_trains_a_probe_router_and_show_says_it_needs_the_probe(tmp_path) -> None:
    from click.testing import CliRunner

    from ponder.cli.main import cli

    store = SampleStore(tmp_path / "run")
    backend = ScriptedBackend(_answer, model="small", active_params=1e8)
    asyncio.run(run_eval(ITEMS[:8], backend, ["sample:n=4"], store, model="scripted:small"))
    out = tmp_path / "r.json"
    args = ["router", "train", str(tmp_path / "run"), "--out", str(out), "--reps", "2", "--probe"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert json.loads(out.read_text())["probe"] == "cot@0"
    shown = CliRunner().invoke(cli, ["router", "show", str(out), "-q", ITEMS[0].question])
    assert shown.exit_code != 0 and "greedy probe on tier 0" in shown.output


def test_folds_are_stratified_by_suite_and_level() -> None:
    ids = [f"{suite}-{level}-{i}" for suite in "ab" for level in "12" for i in range(6)]
    groups = {i: tuple(i.split("-")[:2]) for i in ids}
    fold = folds_of(ids, 3, seed=5, groups=groups)
    for key in set(groups.values()):  # every group's 6 items: 2 in each fold
        members = [fold[i] for i in ids if groups[i] == key]
        assert sorted(members) == [0, 0, 1, 1, 2, 2]
    assert folds_of(ids, 3, seed=5, groups=groups) == fold  # seeded
    assert folds_of(ids, 3, seed=6, groups=groups) != fold


def test_repeated_cross_validation_averages_over_draws_of_folds(pools) -> None:
    once = router_point(pools, 2.0, folds=3, reps=4)
    twice = router_point(pools, 2.0, folds=3, reps=4, repeats=2)
    other = router_point(pools, 2.0, folds=3, reps=4, seed=1)
    assert twice.extra["repeats"] == 2 and once.extra["repeats"] == 1
    assert sum(twice.extra["plans"].values()) == 2 * len(pools.items)  # every draw's picks
    assert sum(once.extra["plans"].values()) == len(pools.items)
    assert min(once.accuracy, other.accuracy) - 1e-9 <= twice.accuracy
    assert twice.accuracy <= max(once.accuracy, other.accuracy) + 1e-9
