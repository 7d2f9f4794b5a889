import asyncio
import random

import pytest

from ponder.cascade import Draw, parse_plan
from ponder.errors import DataError
from ponder.eval.pools import Spend, load_pools, spend, tier_price
from ponder.eval.replay import (
    Point,
    PoolBackend,
    frontier_accuracy,
    pareto,
    pass_evaluator,
    plan_evaluator,
    replay,
    standard_evaluators,
    strategy_evaluator,
)
from ponder.report import shortfall_notes
from ponder.strategies import make_strategy
from ponder.types import SamplingParams, Usage


def test_pools_order_tiers_by_size_and_share_items(world):
    pools, _, _ = world
    assert [t.short for t in pools.tiers] == ["small", "large"]
    assert len(pools.items) == 16
    assert all(len(pools.pool(0, i).sampled) == 8 for i in pools.items)
    assert pools.reorder(["large", "small"]).tiers[0].short == "large"
    with pytest.raises(DataError, match="no stored samples for model 'x'"):
        pools.reorder(["x"])


def test_load_pools_needs_sampling_records():
    with pytest.raises(DataError, match="no sampling records"):
        load_pools([{"item": {"id": "a"}, "model": "m", "strategy": "direct", "error": None}])


def test_local_models_get_a_notional_price_proportional_to_size():
    small, large = tier_price("small-x", 1e8), tier_price("large-x", 1e9)
    assert large.input == pytest.approx(10 * small.input) and small.input > 0
    assert tier_price("gpt-4o-mini", 1e9).input == 0.15  # a listed price wins
    assert tier_price("unknown", None).input == 0.0


def test_spend_counts_the_prompt_once_per_request(world):
    pools, _, _ = world
    pool = pools.pool(0, next(iter(pools.items)))
    wave = pool.sampled[:4]
    got = spend(pools.tiers[0], wave)
    usage = Usage.from_samples(wave)
    assert got.tokens == usage.total_tokens and got.samples == 4
    assert got.dollars > 0 and got.flops == 2 * 1.35e8 * usage.total_tokens
    assert spend(pools.tiers[0], []) == Spend()


def test_pool_backend_never_reuses_a_sample(world):
    pools, _, _ = world
    item_id = next(iter(pools.items))
    sampler = PoolBackend(pools, item_id, random.Random(1))
    first = sampler.draw(Draw(0, False, 5))
    rest = sampler.draw(Draw(0, False, 5))
    assert len(first) == 5 and len(rest) == 3
    pool = pools.pool(0, item_id)

    def key(s):
        return (s.request_id, s.text, s.completion_tokens, s.seed)

    assert sorted(map(key, first + rest)) == sorted(map(key, pool.sampled))
    assert first[0].cached_tokens == 0 and rest[0].cached_tokens == rest[0].prompt_tokens
    assert sampler.draw(Draw(0, True, 1))[0].temperature == 0.0


def test_a_short_pool_is_recorded_and_reported_not_passed_off(world):
    pools, _, _ = world
    item_id = next(iter(pools.items))
    sampler = PoolBackend(pools, item_id, random.Random(1))
    assert len(sampler.draw(Draw(0, False, 12))) == 8
    assert sampler.spent.missing == 4 and sampler.spent.samples == 8
    with pytest.raises(DataError, match="1 samples asked, 0 stored left"):
        asyncio.run(sampler.generate([], SamplingParams(temperature=0.7), 1))
    asked = {
        "sc:n=16@small": plan_evaluator(parse_plan("16@0")),
        "sc:n=8@small": plan_evaluator(parse_plan("8@0")),
    }
    points = {p.name: p for p in replay(pools, asked, reps=2)}
    assert points["sc:n=16@small"].missing == 8 and points["sc:n=8@small"].missing == 0
    notes = shortfall_notes(list(points.values()))
    assert len(notes) == 1 and notes[0].startswith("sc:n=16@small: asked for 8.0 samples")


def test_greedy_accuracy_matches_the_world_per_level(world):
    pools, _, _ = world
    points = {p.name: p for p in replay(pools, standard_evaluators(pools), reps=5)}
    small, large = points["cot@small"], points["cot@large"]
    assert small.by_group == {"syn:1": 1.0, "syn:2": 0.0, "syn:3": 0.0, "syn:4": 0.0}
    assert large.accuracy == 0.75 and small.accuracy == 0.25
    assert small.low == small.high or small.low <= small.accuracy <= small.high
    assert points["sc:n=8@small"].by_group["syn:2"] > 0.5  # votes fix level 2 on the small tier
    assert points["sc:n=8@small"].samples == 8 and points["cot@small"].samples == 1
    assert points["cot@large"].dollars > points["cot@small"].dollars


def test_replay_is_deterministic_and_calls_no_model(world):
    pools, _, (small, large) = world
    calls = len(small.calls) + len(large.calls)
    evaluators = standard_evaluators(pools, oracle=True)
    assert "pass@8@small" in evaluators
    a = replay(pools, evaluators, reps=4, seed=3)
    b = replay(pools, evaluators, reps=4, seed=3)
    assert [p.to_dict() for p in a] == [p.to_dict() for p in b]
    assert len(small.calls) + len(large.calls) == calls


def test_early_stopping_saves_samples_on_easy_items(world):
    pools, _, _ = world
    easy = [i for i, item in pools.items.items() if item.difficulty == "1"]
    fixed, esc = replay(
        pools,
        {
            "fixed": plan_evaluator(parse_plan("8@1")),
            "esc": strategy_evaluator(make_strategy("sc:n=8,stop=esc"), 1),
        },
        reps=10,
        item_ids=easy,
    )
    assert esc.samples < fixed.samples
    assert esc.accuracy >= fixed.accuracy - 0.05


def test_best_of_n_and_oracle(world):
    pools, _, _ = world
    bon = strategy_evaluator(make_strategy("bon:n=8"), 0)
    oracle, best = replay(pools, {"o": pass_evaluator(0, 8), "b": bon}, reps=3)
    assert oracle.accuracy >= best.accuracy


def test_cascade_plan_escalates_only_when_votes_disagree(world):
    pools, _, _ = world
    plan = plan_evaluator(parse_plan("g+2@0 > cot@1"))
    [point] = replay(pools, {"cascade": plan}, reps=10)
    assert point.by_group["syn:3"] >= 0.9  # small mostly disagrees; large greedy is right
    assert point.by_group["syn:1"] == 1.0


def test_pareto_frontier_and_lookup():
    pts = [
        Point("a", 0.5, 0, 1, 10, 1.0, 0, 1),
        Point("b", 0.4, 0, 1, 20, 2.0, 0, 1),
        Point("c", 0.8, 0, 1, 30, 3.0, 0, 1),
        Point("d", 0.8, 0, 1, 40, 4.0, 0, 1),
    ]
    front = pareto(pts)
    assert [p.name for p in front] == ["a", "c"]
    assert frontier_accuracy(front, 2.5) == 0.5
    assert frontier_accuracy(front, 0.5) == 0.0
    assert [p.name for p in pareto(pts, "tokens")] == ["a", "c"]


def test_the_largest_pool_of_several_runs_wins(world):
    _, store, _ = world
    records = store.records()
    first = next(r for r in records if r["model"] == "scripted:small")
    bigger = {
        **first,
        "strategy": "sample:n=9",
        "samples": first["samples"] + first["samples"][1:2],
    }
    smaller = {**first, "strategy": "sample:n=2", "samples": first["samples"][:3]}
    pools = load_pools([*records, bigger, smaller])
    assert len(pools.pool(0, first["item"]["id"]).sampled) == 9


class _InOrder(random.Random):
    """Serves stored samples in the order they were drawn."""

    def shuffle(self, x, random=None):  # type: ignore[override]
        return None


@pytest.mark.parametrize("spec", ["sc:n=6", "sc:n=6,stop=esc", "bon:n=6", "cot"])
def test_a_live_run_and_its_replay_agree(spec):
    from ponder.backends.scripted import ScriptedBackend
    from ponder.eval.datasets import Item
    from ponder.eval.replay import run_now
    from ponder.types import as_question

    item = Item(id="q", question="What is 6 times 7?", answer="42", kind="number")
    outputs = ["6*7 = 42. Answer: 42", "Answer: 41", "Answer: 42", "I think 43.", "Answer: 42"]
    live_backend = ScriptedBackend({item.question: outputs}, model="tiny", active_params=1e8)
    question = as_question(item.question, item.kind)
    live = asyncio.run(make_strategy(spec).solve(question, live_backend))
    record = {
        "item": item.to_dict(),
        "model": "scripted:tiny",
        "model_name": "tiny",
        "active_params": 1e8,
        "strategy": "sample:n=6",
        "samples": [s.to_dict() for s in live.samples],
        "error": None,
    }
    pools = load_pools([record])
    replayed = run_now(make_strategy(spec).solve(question, PoolBackend(pools, "q", _InOrder())))
    assert (replayed.answer, replayed.votes) == (live.answer, live.votes)
    for field in ("prompt_tokens", "completion_tokens", "samples", "requests"):
        assert getattr(replayed.usage, field) == getattr(live.usage, field), field
    assert replayed.cost.dollars == pytest.approx(live.cost.dollars) and live.cost.dollars > 0
