"""Evaluate strategies offline from stored samples: maj@k curves, stopping rules,
best-of-N and any routing plan, with bootstrap confidence intervals.

Each repetition shuffles every item's stored samples (so sc@k is a random k-subset,
as in maj@k curves) and resamples the items with replacement (for the interval).
One sampling run per model is enough to draw the whole accuracy-vs-cost curve.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ponder.answers import answers_match
from ponder.eval.pools import Pools, Spend, spend
from ponder.routing.cascade import Draw, Plan, Stage, run_plan
from ponder.strategies.stopping import make_rule
from ponder.types import Sample
from ponder.voting import tally, winner


@dataclass(frozen=True)
class Outcome:
    answer: str | None
    correct: bool
    spend: Spend


Evaluator = Callable[[Pools, str, random.Random], Outcome]
"""evaluator(pools, item_id, rng) -> Outcome for one item."""


class Sampler:
    """Serves one item's stored samples to a cascade in a shuffled order, adding up costs."""

    def __init__(self, pools: Pools, item_id: str, rng: random.Random) -> None:
        self.pools = pools
        self.item_id = item_id
        self.rng = rng
        self._queues: dict[int, list[Sample]] = {}
        self.spent = Spend()

    def draw(self, request: Draw) -> list[Sample]:
        pool = self.pools.pool(request.tier, self.item_id)
        if request.greedy:
            got = [pool.greedy] if pool.greedy is not None else []
        else:
            if request.tier not in self._queues:
                queue = list(pool.sampled)
                self.rng.shuffle(queue)
                self._queues[request.tier] = queue
            queue = self._queues[request.tier]
            got, self._queues[request.tier] = queue[: request.n], queue[request.n :]
        self.spent = self.spent + spend(self.pools.tiers[request.tier], got)
        return got


def _grade(pools: Pools, item_id: str, answer: str | None, spent: Spend) -> Outcome:
    item = pools.items[item_id]
    return Outcome(answer, answers_match(answer, item.answer, item.kind), spent)


def plan_evaluator(plan: Plan) -> Evaluator:
    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        sampler = Sampler(pools, item_id, rng)
        steps = run_plan(plan)
        try:
            request = next(steps)
            while True:
                request = steps.send(sampler.draw(request))
        except StopIteration as stop:
            decision = stop.value
        return _grade(pools, item_id, decision.answer, sampler.spent)

    return evaluate


def rule_evaluator(tier: int, rule_name: str, n: int) -> Evaluator:
    """Self-consistency with an early-stopping rule, drawing waves up to ``n``."""
    rule = make_rule(rule_name)

    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        sampler = Sampler(pools, item_id, rng)
        samples: list[Sample] = []
        wave = rule.wave or n
        while len(samples) < n:
            got = sampler.draw(Draw(tier, False, min(wave, n - len(samples))))
            if not got:
                break
            samples += got
            if rule.should_stop([s.answer for s in samples]):
                break
        return _grade(pools, item_id, winner(tally(samples)), sampler.spent)

    return evaluate


def bon_evaluator(tier: int, n: int, oracle: bool = False) -> Evaluator:
    """Best-of-n by mean token logprob, or (``oracle``) by the gold answer: pass@n."""

    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        sampler = Sampler(pools, item_id, rng)
        samples = sampler.draw(Draw(tier, False, n))
        item = pools.items[item_id]
        if oracle:
            right = next(
                (s for s in samples if answers_match(s.answer, item.answer, item.kind)), None
            )
            best = right or (samples[0] if samples else None)
        else:
            best = max(samples, key=lambda s: s.mean_logprob or float("-inf"), default=None)
        return _grade(pools, item_id, best.answer if best else None, sampler.spent)

    return evaluate


def standard_evaluators(pools: Pools, oracle: bool = False) -> dict[str, Evaluator]:
    """Greedy, maj@k for k = 1, 2, 4, ... N, each stopping rule at N and best-of-N, per tier."""
    out: dict[str, Evaluator] = {}
    for t, tier in enumerate(pools.tiers):
        size = min(len(p.sampled) for p in pools.by_tier[tier.model].values())
        out[f"cot@{tier.short}"] = plan_evaluator(Plan((Stage(t),)))
        k = 1
        while k <= size:
            out[f"sc:n={k}@{tier.short}"] = plan_evaluator(Plan((Stage(t, False, k),)))
            k = k * 2 if k * 2 <= size or k == size else size
        if size >= 4:
            for rule in ("esc", "beta", "margin"):
                out[f"sc:n={size},stop={rule}@{tier.short}"] = rule_evaluator(t, rule, size)
            out[f"bon:n={size}@{tier.short}"] = bon_evaluator(t, size)
            if oracle:
                out[f"pass@{size}@{tier.short}"] = bon_evaluator(t, size, oracle=True)
    return out


@dataclass
class Point:
    """One strategy's accuracy and mean cost per item over the replayed items."""

    name: str
    accuracy: float
    low: float
    high: float
    tokens: float
    dollars: float
    flops: float
    samples: float
    by_group: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def group_of(pools: Pools, item_id: str) -> str:
    item = pools.items[item_id]
    return f"{item.suite or 'data'}:{item.difficulty or '-'}"


def replay(
    pools: Pools,
    evaluators: Mapping[str, Evaluator],
    reps: int = 100,
    seed: int = 0,
    item_ids: Sequence[str] | None = None,
) -> list[Point]:
    """Accuracy (mean, 95% bootstrap interval) and mean cost of each evaluator."""
    ids = list(item_ids if item_ids is not None else pools.items)
    groups = np.array([group_of(pools, i) for i in ids])
    boot = np.random.default_rng(seed)
    picks = boot.integers(0, len(ids), size=(reps, len(ids)))
    points = []
    for name, evaluate in evaluators.items():
        correct = np.zeros((reps, len(ids)))
        costs = np.zeros((4,))
        used = np.zeros((reps, len(ids)))
        for r in range(reps):
            rng = random.Random(seed * 100_003 + r)
            for j, item_id in enumerate(ids):
                out = evaluate(pools, item_id, rng)
                correct[r, j] = out.correct
                costs += (out.spend.tokens, out.spend.dollars, out.spend.flops, out.spend.samples)
                used[r, j] = out.spend.samples
        costs /= reps * len(ids)
        resampled = np.take_along_axis(correct, picks, axis=1).mean(axis=1)
        by_group = {g: float(correct[:, groups == g].mean()) for g in sorted(set(groups))}
        samples_by_group = {g: float(used[:, groups == g].mean()) for g in sorted(set(groups))}
        points.append(
            Point(
                name,
                float(correct.mean()),
                float(np.percentile(resampled, 2.5)),
                float(np.percentile(resampled, 97.5)),
                tokens=float(costs[0]),
                dollars=float(costs[1]),
                flops=float(costs[2]),
                samples=float(costs[3]),
                by_group=by_group,
                extra={"samples_by_group": samples_by_group},
            )
        )
    return points


def pareto(points: Sequence[Point], cost: str = "dollars") -> list[Point]:
    """The points no other point beats on both accuracy and cost, cheapest first."""
    ordered = sorted(points, key=lambda p: (getattr(p, cost), -p.accuracy))
    front: list[Point] = []
    for point in ordered:
        if not front or point.accuracy > front[-1].accuracy:
            front.append(point)
    return front


def frontier_accuracy(front: Sequence[Point], at_cost: float, cost: str = "dollars") -> float:
    """The frontier's accuracy at a cost: the best point costing no more (a step function)."""
    below = [p.accuracy for p in front if getattr(p, cost) <= at_cost]
    return max(below) if below else 0.0
