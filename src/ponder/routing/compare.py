"""Fixed strategies against the router, on the same stored samples.

The router is scored by k-fold cross-validation over items: for each fold it is
trained (and its budget calibrated) on the other folds and replayed on this one, so
its point on the accuracy-vs-cost plot is never measured on questions it learned from.
Folds are stratified by suite and level (each fold gets its share of every group), and
the cross-validation may be repeated over several fold draws (``repeats``): with a
hundred-odd items, one draw of folds moves the router's accuracy by points.
"""

from __future__ import annotations

import random
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from ponder.eval import (
    PROBE_DRAW,
    Evaluator,
    Outcome,
    Point,
    PoolBackend,
    Pools,
    grade,
    probe_draw,
    replay,
    run_on_pools,
    standard_evaluators,
)
from ponder.routing.catalogue import pool_plans
from ponder.routing.router import Router
from ponder.routing.training import label_items, train_router

ROUTER = "auto"


def fixed_points(pools: Pools, reps: int = 100, seed: int = 0, oracle: bool = False) -> list[Point]:
    return replay(pools, standard_evaluators(pools, oracle=oracle), reps=reps, seed=seed)


def direct_point(points: Sequence[Point], pools: Pools) -> Point:
    name = f"cot@{pools.tiers[0].short}"
    return next(p for p in points if p.name == name)


def best_point(points: Sequence[Point], unit: str = "dollars") -> Point:
    """The most accurate fixed strategy (the cheaper in ``unit`` on a tie); oracles
    excluded."""
    real = [p for p in points if not p.name.startswith("pass@")]
    return max(real, key=lambda p: (round(p.accuracy, 6), -getattr(p, unit)))


def folds_of(
    item_ids: Sequence[str],
    folds: int,
    seed: int = 0,
    groups: Mapping[str, Hashable] | None = None,
) -> dict[str, int]:
    """Each item's fold. With ``groups`` (item -> group, e.g. its suite and level) the
    folds are stratified: each group's items, shuffled, are dealt round the folds in turn,
    continuing where the previous group stopped, so fold sizes differ by at most one."""
    rng = random.Random(seed)
    ids = sorted(item_ids)
    if groups is None:
        rng.shuffle(ids)
        return {item_id: i % folds for i, item_id in enumerate(ids)}
    by_group: dict[Hashable, list[str]] = {}
    for item_id in ids:
        by_group.setdefault(groups[item_id], []).append(item_id)
    out: dict[str, int] = {}
    turn = 0
    for key in sorted(by_group, key=repr):
        members = by_group[key]
        rng.shuffle(members)
        for item_id in members:
            out[item_id] = turn % folds
            turn += 1
    return out


def strata(pools: Pools) -> dict[str, tuple[str, str]]:
    """Each item's suite and level: what cross-validation folds are stratified by."""
    return {i: (item.suite, item.difficulty or "") for i, item in pools.items.items()}


def crossval_routers(
    pools: Pools,
    budget: float,
    folds: int = 4,
    seed: int = 0,
    reps: int = 8,
    probe: bool | str = False,
    l2: float | None = 2.0,
    terms: str = "linear",
    unit: str = "dollars",
    text: bool = True,
) -> tuple[dict[str, int], list[Router]]:
    fold = folds_of(list(pools.items), folds, seed, strata(pools))
    plans = pool_plans(pools, probe)
    ids = list(pools.items)
    labels = label_items(pools, plans, ids, reps, seed, unit, probe)  # once for every fold
    routers = []
    for k in range(folds):
        mine = labels.subset([n for n, i in enumerate(ids) if fold[i] != k])
        routers.append(
            train_router(
                pools,
                mine.item_ids,
                plans,
                budget=budget,
                reps=reps,
                seed=seed,
                probe=probe,
                l2=l2,
                terms=terms,
                labels=mine,
                unit=unit,
                text=text,
            )
        )
    return fold, routers


def router_evaluator(router: Router, tiers: int, chosen: dict[str, str] | None = None) -> Evaluator:
    """A router replayed as ``auto`` runs it: the plan it picks per question (after the
    router's probe, paid for, when it is a probe router). ``chosen`` collects the plan
    names."""
    request = router.probe_request

    def evaluate(p: Pools, item_id: str, rng: random.Random) -> Outcome:
        backend = PoolBackend(p, item_id, rng)
        probe = probe_draw(backend, request) if request is not None else None
        plan = router.choose(p.items[item_id].question, tiers, probe=probe)
        if chosen is not None:
            chosen[item_id] = plan.name
        decision = run_on_pools(plan, backend, probe, request or PROBE_DRAW)
        return grade(p, item_id, decision.answer, backend.spent)

    return evaluate


def router_point(
    pools: Pools,
    budget: float,
    folds: int = 4,
    reps: int = 100,
    seed: int = 0,
    name: str = ROUTER,
    probe: bool | str = False,
    l2: float | None = 2.0,
    repeats: int = 1,
    terms: str = "linear",
    unit: str = "dollars",
    text: bool = True,
) -> Point:
    """The cross-validated router's accuracy and cost at ``budget`` (x direct); with
    ``probe``, routers that route after a probe (True: tier 0's greedy answer; or its
    name, ``pot@1``; paid for); ``l2`` and
    ``terms`` as ``train_router``'s (``l2=None``: chosen inside each training fold). With
    ``repeats`` > 1 the cross-validation is run over that many draws of folds (seeds ``seed``,
    ``seed + 1``, ...) and each replay of an item is routed by one of them in turn, so
    the point averages over the draws."""
    tiers = len(pools.tiers)
    chosen: list[dict[str, str]] = []  # per draw of folds: each item's plan
    draws = []
    for r in range(max(repeats, 1)):
        fold, routers = crossval_routers(
            pools, budget, folds, seed + r, probe=probe, l2=l2, terms=terms, unit=unit, text=text
        )
        chosen.append({})
        draws.append((fold, [router_evaluator(x, tiers, chosen[-1]) for x in routers]))
    calls: dict[str, int] = {}

    def evaluate(p: Pools, item_id: str, rng: random.Random) -> Outcome:
        turn = calls.get(item_id, 0)
        calls[item_id] = turn + 1
        fold, per_fold = draws[turn % len(draws)]
        return per_fold[fold[item_id]](p, item_id, rng)

    [point] = replay(pools, {name: evaluate}, reps=reps, seed=seed)
    counts: dict[str, int] = {}  # over every draw: items x repeats in all
    for plan_name in (name for picks in chosen for name in picks.values()):
        counts[plan_name] = counts.get(plan_name, 0) + 1
    extra = {"budget": budget, "folds": folds, "repeats": max(repeats, 1), "plans": counts}
    point.extra = {**point.extra, **extra}
    return point


@dataclass(frozen=True)
class Headline:
    router: Point
    best: Point
    accuracy_share: float  # router accuracy / best accuracy
    cost_share: float  # router cost / best cost, in ``unit``
    unit: str = "dollars"

    @property
    def sentence(self) -> str:
        cost = "cost" if self.unit == "dollars" else self.unit
        return (
            f"{self.router.name} reaches {100 * self.accuracy_share:.0f}% of the accuracy of the "
            f"best fixed strategy ({self.best.name}, {100 * self.best.accuracy:.1f}%) at "
            f"{100 * self.cost_share:.0f}% of its {cost} "
            f"({100 * self.router.accuracy:.1f}% accuracy)."
        )


def headline(router: Point, fixed: Sequence[Point], unit: str = "dollars") -> Headline:
    """The router against the best fixed strategy, costs compared in ``unit`` (dollars,
    or tokens for a run that costs nothing)."""
    best = best_point(fixed, unit)
    accuracy = router.accuracy / best.accuracy if best.accuracy else 0.0
    spent = getattr(best, unit)
    cost = getattr(router, unit) / spent if spent else 0.0
    return Headline(router, best, accuracy, cost, unit)
