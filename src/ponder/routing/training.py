"""Train a router from stored samples: per candidate plan, P(correct | features).

For every item and candidate plan, replay (``ponder.eval``: ``plan_evaluator`` over
stored ``Pools``) gives the share of shuffles in which the plan answers right (a soft
label) and its mean cost. Each plan gets a logistic regression on the standardised
features, fitted with the soft labels in place of hard ones
(``ponder.routing.fitting.fit_logistic``: Newton's method in numpy, the objective of
scikit-learn's LogisticRegression). The router then keeps only plain numbers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ponder.errors import ConfigError, DataError
from ponder.eval import Pools, plan_evaluator
from ponder.plans import PROBE, Plan, probe_name, probe_request
from ponder.routing.calibrate import calibration_table, lam_for_budget
from ponder.routing.catalogue import pool_plans
from ponder.routing.features import TERMS, features, probe_features
from ponder.routing.fitting import choose_l2, deal_folds, fit_log_cost, fit_logistic, standardise
from ponder.routing.router import PlanModel, Router
from ponder.routing.support import support_of
from ponder.types import Sample

UNITS = ("dollars", "tokens", "flops")


@dataclass
class Labels:
    """Per item (rows) and plan (columns): share correct and mean cost over shuffles."""

    item_ids: list[str]
    correct: np.ndarray
    cost: np.ndarray

    def subset(self, rows: Sequence[int] | np.ndarray) -> Labels:
        """The labels of these rows (items), in that order."""
        picked = np.asarray(rows, dtype=int)
        return Labels([self.item_ids[i] for i in picked], self.correct[picked], self.cost[picked])


def label_items(
    pools: Pools,
    plans: Sequence[Plan],
    item_ids: Sequence[str],
    reps: int = 8,
    seed: int = 0,
    unit: str = "dollars",
    probed: bool | str = False,
) -> Labels:
    """Soft labels and costs for every item and plan; ``unit`` is "dollars" (real or
    notional prices, see ``ponder.eval.pools``), "tokens" or "flops" (2 x active parameters
    x tokens: tiers compared by compute). With ``probed`` (True: tier 0's greedy
    answer; or a probe's name, ``pot@1``), each plan runs after that probe, whose cost it
    carries."""
    if unit not in UNITS:
        raise ConfigError(f"cost unit must be one of {', '.join(UNITS)}, got {unit!r}")
    correct = np.zeros((len(item_ids), len(plans)))
    cost = np.zeros((len(item_ids), len(plans)))
    for j, plan in enumerate(plans):
        evaluate = plan_evaluator(plan, probed)
        for i, item_id in enumerate(item_ids):
            for r in range(reps):
                out = evaluate(pools, item_id, random.Random(seed * 7919 + r))
                correct[i, j] += out.correct / reps
                cost[i, j] += getattr(out.spend, unit) / reps
    return Labels(list(item_ids), correct, cost)


def probes_of(pools: Pools, ids: Sequence[str], probe: str = PROBE) -> list[Sample | None]:
    """Each item's probe (by default tier 0's greedy answer; ``pot@1``: tier 1's greedy
    program): what a probe router reads."""
    request = probe_request(probe)
    if request.tier >= len(pools.tiers):
        raise DataError(f"probe {probe!r}: the run has {len(pools.tiers)} tier(s)")
    if request.program and not pools.has_programs(request.tier):
        raise DataError(f"probe {probe!r}: tier {request.tier} has no stored programs")
    if request.program:
        stored = pools.programs[pools.tiers[request.tier].model]
        return [stored[i].greedy if i in stored else None for i in ids]
    return [pools.pool(request.tier, i).greedy for i in ids]


def _design(
    ids: Sequence[str],
    words: np.ndarray,
    probes: Sequence[Sample | None],
    probe: str | None,
    text: bool = True,
) -> np.ndarray:
    """The plan models' inputs per item: its question's features ``words`` (unless not
    ``text``), then its probe's (with a ``probe``)."""
    rows = []
    for item_id, row, greedy in zip(ids, words, probes, strict=True):
        values = [float(v) for v in row] if text else []
        if probe:
            if greedy is None:
                raise DataError(f"item {item_id!r} has no greedy sample to probe ({probe})")
            values += probe_features(greedy)
        rows.append(values)
    return np.array(rows)


def _fit_plans(
    raw: np.ndarray,
    plans: Sequence[Plan],
    labels: Labels,
    l2: float,
    terms: str,
    scale_unit: float,
) -> tuple[list[PlanModel], dict[str, list[float]]]:
    """Fit one model per plan on design rows ``raw`` (features per item), and its cost
    model (costs in units of ``scale_unit``). Returns the models and the scaling
    (``mean``/``scale`` of the features; for quadratic terms also ``term_mean`` and
    ``term_scale`` of the expanded inputs)."""
    z, x, scaling = standardise(raw, terms)
    softs = 0.02 + 0.96 * labels.correct  # never certain: keeps weights finite
    relative = labels.cost / scale_unit
    models = []
    for j, plan in enumerate(plans):
        coef, intercept = fit_logistic(x, softs[:, j], l2)
        cost_coef, cost_intercept, bounds = fit_log_cost(z, relative[:, j])
        models.append(
            PlanModel(
                plan,
                coef,
                intercept,
                float(relative[:, j].mean()),
                cost_coef,
                cost_intercept,
                bounds,
            )
        )
    return models, scaling


def _router(
    models: list[PlanModel],
    scaling: dict[str, list[float]],
    terms: str,
    probe: str | None,
    text: bool = True,
) -> Router:
    return Router(
        models,
        scaling["mean"],
        scaling["scale"],
        probe=probe,
        text=text,
        terms=terms,
        term_mean=scaling.get("term_mean", []),
        term_scale=scaling.get("term_scale", []),
    )


def _scores(
    router: Router, questions: Sequence[str], probes: Sequence[Sample | None]
) -> tuple[np.ndarray, np.ndarray]:
    """The router's P(correct) and expected cost per question (rows) and plan (columns)."""
    rows = [router.scores(q, probe=s) for q, s in zip(questions, probes, strict=True)]
    probs = np.array([[p for _, p, _ in row] for row in rows])
    costs = np.array([[c for _, _, c in row] for row in rows])
    return probs, costs


CALIBRATION_FOLDS = 4
"""Folds of the training items over which the budget is calibrated on predictions of
models that did not see the question (cross-fitted)."""


@dataclass
class Forecast:
    """Per training question, what a router that never saw it predicts: P(correct) and
    cost per plan, and whether the question lies outside that router's training data
    (so it gets the safe plan)."""

    probs: np.ndarray
    costs: np.ndarray
    outside: np.ndarray


def crossfit(
    raw: np.ndarray,
    plans: Sequence[Plan],
    labels: Labels,
    l2: float,
    terms: str,
    scale_unit: float,
    questions: Sequence[str],
    words: np.ndarray,
    probes: Sequence[Sample | None],
    probe: str | None,
    folds: int = CALIBRATION_FOLDS,
    seed: int = 0,
    text: bool = True,
) -> Forecast:
    """Each training question's forecast from plan models fitted on the other folds:
    what the router will predict for questions it never saw, and how often such a
    question falls outside its training data. Calibrating the budget on in-sample
    predictions instead lets an overfitted router (more so one with quadratic terms) look
    surer on its own questions than it will be on new ones, and forgets the safe plans
    new questions get, so its cost on new questions misses the budget."""
    fold_of = deal_folds(len(questions), folds, seed)
    probs = np.zeros((len(questions), len(plans)))
    costs = np.zeros((len(questions), len(plans)))
    outside = np.zeros(len(questions), dtype=bool)
    for k in range(folds):
        train, held = np.where(fold_of != k)[0], np.where(fold_of == k)[0]
        models, scaling = _fit_plans(raw[train], plans, labels.subset(train), l2, terms, scale_unit)
        inner = _router(models, scaling, terms, probe, text)
        inner.support = support_of(words[train])
        asked = [questions[i] for i in held]
        probs[held], costs[held] = _scores(inner, asked, [probes[i] for i in held])
        outside[held] = [bool(inner.support.outside(row)) for row in words[held]]
    return Forecast(probs, costs, outside)


def train_router(
    pools: Pools,
    item_ids: Sequence[str] | None = None,
    plans: Sequence[Plan] | None = None,
    budget: float | None = None,
    reps: int = 8,
    l2: float | None = 2.0,
    seed: int = 0,
    unit: str = "dollars",
    support: bool = True,
    probe: bool | str = False,
    terms: str = "linear",
    labels: Labels | None = None,
    text: bool = True,
) -> Router:
    """Fit a router on the stored samples of ``item_ids`` (all items by default);
    ``support`` keeps where the training questions lay (``support_of``: questions far from
    all of them get a safe plan). A ``probe`` router routes after a greedy draw and reads
    it too (``ponder.routing.features.probe_features``): ``True`` or ``"cot@0"`` for tier
    0's step-by-step answer, ``"pot@1"`` for tier 1's program; its costs include the
    probe, and its cost unit stays tier 0's plain greedy answer. Without ``text`` (a
    probe router only) its plan models read the probe alone, not the question's text
    features: with few training questions, sixteen text features let each plan's model
    fit noise where the probe carries the signal (``support`` still reads the text).
    ``l2`` is the ridge strength of every plan's model; ``None`` chooses it by
    cross-validation on these items (``choose_l2``). ``terms``: the plan models read the
    features ``linear``-ly (the default) or with their pairwise products (``quadratic``). Each plan
    also gets a log-linear cost model (``fit_log_cost``). The budget is calibrated on
    cross-fitted forecasts (``crossfit``) when there are at least
    ``2 * CALIBRATION_FOLDS`` items, else on in-sample ones. ``labels`` may carry
    ``label_items``'s result for these items and plans, computed once (cross-validation
    trains on overlapping sets of items)."""
    if terms not in TERMS:
        raise ConfigError(f"terms must be one of {', '.join(TERMS)}, not {terms!r}")
    probing = probe_name(probe) if probe else None
    if not text and probing is None:
        raise ConfigError("a router that does not read the question's text needs a probe")
    ids = list(item_ids if item_ids is not None else pools.items)
    if len(ids) < 4:
        raise DataError(f"need at least 4 finished items to train a router, got {len(ids)}")
    plans = list(plans or pool_plans(pools, probing or False))
    if any(p.max_tier >= len(pools.tiers) for p in plans):
        raise ConfigError(f"a plan uses a tier the run lacks (it has {len(pools.tiers)})")
    if labels is None:
        labels = label_items(pools, plans, ids, reps, seed, unit, probing or False)
    elif labels.item_ids != ids or labels.correct.shape != (len(ids), len(plans)):
        raise ConfigError("labels must be for the training items and the plans, in order")
    questions = [pools.items[i].question for i in ids]
    words = np.array([features(q) for q in questions])  # the text: where the questions lay
    probes = probes_of(pools, ids, probing) if probing else [None] * len(ids)
    raw = _design(ids, words, probes, probing, text)
    direct = float(labels.cost[:, 0].mean()) if plans[0].name == "cot@0" else 0.0
    if direct and probing not in (None, PROBE):  # the unit is cot@0 without the probe
        direct = float(label_items(pools, plans[:1], ids, reps, seed, unit).cost.mean())
    scale_unit = direct or float(labels.cost.mean()) or 1.0
    if l2 is None:
        l2, _ = choose_l2(standardise(raw, terms)[1], 0.02 + 0.96 * labels.correct, seed=seed)
    models, scaling = _fit_plans(raw, plans, labels, l2, terms, scale_unit)
    router = _router(models, scaling, terms, probing, text)
    router.tiers = [t.model for t in pools.tiers]
    router.meta = {
        "items": len(ids),
        "reps": reps,
        "cost_unit": f"cot@0 {unit}",
        "direct_cost": scale_unit,
        "l2": l2,
    }
    if len(ids) >= 2 * CALIBRATION_FOLDS:
        forecast = crossfit(
            raw,
            plans,
            labels,
            l2,
            terms,
            scale_unit,
            questions,
            words,
            probes,
            probing,
            seed=seed,
            text=text,
        )
        router.meta["calibration"] = f"cross-fitted, {CALIBRATION_FOLDS} folds"
    else:
        probs, costs = _scores(router, questions, probes)
        forecast = Forecast(probs, costs, np.zeros(len(ids), dtype=bool))
        router.meta["calibration"] = "in-sample"
    router.budget = budget  # the safe plan new unfamiliar questions get follows it
    safe = router.safe(len(pools.tiers)) if support else None
    forced = np.full(len(ids), -1)
    if safe in plans:
        forced[forecast.outside] = plans.index(safe)
    router.calibration = calibration_table(
        forecast.probs, forecast.costs, labels.correct, labels.cost / scale_unit, forced=forced
    )
    if support:
        router.support = support_of(words)
    table = router.calibration
    router.lam = lam_for_budget(table, budget) if budget is not None else table[0]["lam"]
    return router
