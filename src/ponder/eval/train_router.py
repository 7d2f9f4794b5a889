"""Train a router from stored samples: per candidate plan, P(correct | features).

For every item and candidate plan, replay (``ponder.eval.replay``) gives the share of
shuffles in which the plan answers right (a soft label) and its mean cost. Each plan
gets a logistic regression on the standardised features, fitted with the soft labels
in place of hard ones (``fit_logistic``: Newton's method in numpy, the objective of
scikit-learn's LogisticRegression). The router then keeps only plain numbers.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ponder.errors import ConfigError, DataError
from ponder.eval.plans import pool_plans
from ponder.eval.pools import Pools
from ponder.eval.replay import plan_evaluator
from ponder.routing.calibrate import calibration_table, lam_for_budget
from ponder.routing.cascade import Plan
from ponder.routing.features import FEATURES, TERMS, expand, features, probe_features
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
    probed: bool = False,
) -> Labels:
    """Soft labels and costs for every item and plan; ``unit`` is "dollars" (real or
    notional prices, see ``ponder.eval.pools``), "tokens" or "flops" (2 x active parameters
    x tokens: tiers compared by compute). With ``probed``, each plan
    runs after the greedy probe on tier 0, whose cost it carries."""
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


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50
) -> tuple[list[float], float]:
    """L2-regularised logistic regression on soft labels ``y`` in [0, 1] (Newton's method).

    Minimises sum(cross-entropy(y, sigmoid(x w + b))) + l2/2 |w|^2, the intercept free;
    the same objective as scikit-learn's LogisticRegression(C=1/l2) with the labels as
    sample weights, in a few lines of numpy (and without its import time).
    """
    rows, cols = x.shape
    design = np.hstack([x, np.ones((rows, 1))])
    w = np.zeros(cols + 1)
    ridge = np.full(cols + 1, l2)
    ridge[-1] = 1e-6
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ w, -30, 30)))
        grad = design.T @ (p - y) + ridge * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + np.diag(ridge)
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return [float(v) for v in w[:-1]], float(w[-1])


L2_GRID = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
"""The ridge strengths ``choose_l2`` tries."""


def cross_entropy(y: np.ndarray, p: np.ndarray) -> float:
    """Mean cross-entropy of predictions ``p`` against soft labels ``y``."""
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def deal_folds(rows: int, folds: int, seed: int = 0) -> np.ndarray:
    """Each of ``rows`` rows' fold: the rows shuffled (seeded) and dealt round in turn."""
    order = list(range(rows))
    random.Random(seed).shuffle(order)
    fold_of = np.empty(rows, dtype=int)
    for rank, i in enumerate(order):
        fold_of[i] = rank % folds
    return fold_of


def choose_l2(
    x: np.ndarray,
    soft: np.ndarray,
    grid: Sequence[float] = L2_GRID,
    folds: int = 4,
    seed: int = 0,
) -> tuple[float, dict[float, float]]:
    """The ridge strength whose plan models predict held-out items best: ``folds``-fold
    cross-validation over the rows of ``x`` (the training items only, so a router
    evaluated by cross-validation chooses it by nested cross-validation), scored by the
    cross-entropy against the soft labels summed over plans (columns of ``soft``).
    Returns the choice and every strength's held-out loss; ties go to the stronger
    ridge."""
    rows = x.shape[0]
    if rows < 2 * folds:
        raise DataError(f"need at least {2 * folds} items to choose the ridge, got {rows}")
    fold_of = deal_folds(rows, folds, seed)
    losses: dict[float, float] = {}
    for l2 in grid:
        total = 0.0
        for k in range(folds):
            train, held = fold_of != k, fold_of == k
            for j in range(soft.shape[1]):
                coef, intercept = fit_logistic(x[train], soft[train, j], l2)
                z = x[held] @ np.array(coef) + intercept
                p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
                total += cross_entropy(soft[held, j], p) * int(held.sum())
        losses[l2] = total / rows
    best = min(losses.values())
    chosen = max(l2 for l2, loss in losses.items() if loss <= best + 1e-12)
    return chosen, losses


def probes_of(pools: Pools, ids: Sequence[str]) -> list[Sample | None]:
    """Each item's greedy sample on tier 0: what a probe router reads."""
    return [pools.pool(0, i).greedy for i in ids]


def _design(pools: Pools, ids: Sequence[str], probe: bool) -> np.ndarray:
    rows = []
    for item_id, greedy in zip(ids, probes_of(pools, ids), strict=True):
        row = features(pools.items[item_id].question)
        if probe:
            if greedy is None:
                raise DataError(f"item {item_id!r} has no greedy sample on tier 0 to probe")
            row += probe_features(greedy)
        rows.append(row)
    return np.array(rows)


COST_L2 = 1.0
"""Ridge strength of the plans' log-cost models."""


def fit_log_cost(
    z: np.ndarray, cost: np.ndarray, l2: float = COST_L2
) -> tuple[list[float], float, tuple[float, float]]:
    """Ridge regression of log(cost) on standardised features ``z``: (coef, intercept,
    bounds). The intercept carries the smearing correction (the mean of exp(residual)),
    so exp of the prediction estimates the mean cost, not the median; ``bounds`` are
    the log-costs seen, which predictions are kept within."""
    y = np.log(np.maximum(cost, 1e-9))
    design = np.hstack([z, np.ones((z.shape[0], 1))])
    ridge = np.full(design.shape[1], l2)
    ridge[-1] = 1e-9
    w = np.linalg.solve(design.T @ design + np.diag(ridge), design.T @ y)
    smear = float(np.log(np.exp(y - design @ w).mean()))
    return [float(v) for v in w[:-1]], float(w[-1]) + smear, (float(y.min()), float(y.max()))


def _standardise(
    raw: np.ndarray, terms: str
) -> tuple[np.ndarray, np.ndarray, dict[str, list[float]]]:
    """The standardised features ``z``, the plan models' inputs ``x`` (``z``, or ``z`` with
    its products standardised again) and the scaling a router stores for them."""
    mean, scale = raw.mean(axis=0), raw.std(axis=0)
    scale[scale == 0] = 1.0
    z = (raw - mean) / scale
    scaling = {"mean": [float(v) for v in mean], "scale": [float(v) for v in scale]}
    if terms == "linear":
        return z, z, scaling
    x = np.array([expand(row, terms) for row in z])
    term_mean, term_scale = x.mean(axis=0), x.std(axis=0)
    term_scale[term_scale == 0] = 1.0
    scaling["term_mean"] = [float(v) for v in term_mean]
    scaling["term_scale"] = [float(v) for v in term_scale]
    return z, (x - term_mean) / term_scale, scaling


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
    z, x, scaling = _standardise(raw, terms)
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
    models: list[PlanModel], scaling: dict[str, list[float]], terms: str, probe: bool
) -> Router:
    return Router(
        models,
        scaling["mean"],
        scaling["scale"],
        probe=probe,
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
    probes: Sequence[Sample | None],
    probe: bool,
    folds: int = CALIBRATION_FOLDS,
    seed: int = 0,
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
    text = raw[:, : len(FEATURES)]
    for k in range(folds):
        train, held = np.where(fold_of != k)[0], np.where(fold_of == k)[0]
        models, scaling = _fit_plans(raw[train], plans, labels.subset(train), l2, terms, scale_unit)
        inner = _router(models, scaling, terms, probe)
        inner.support = support_of(text[train])
        asked = [questions[i] for i in held]
        probs[held], costs[held] = _scores(inner, asked, [probes[i] for i in held])
        outside[held] = [bool(inner.support.outside(row)) for row in text[held]]
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
    probe: bool = False,
    terms: str = "linear",
    labels: Labels | None = None,
) -> Router:
    """Fit a router on the stored samples of ``item_ids`` (all items by default);
    ``support`` keeps where the training questions lay (``support_of``: questions far from
    all of them get a safe plan). A ``probe`` router routes after the greedy sample on
    tier 0 and reads it too (``ponder.routing.features.probe_features``); its costs
    include the probe.
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
    ids = list(item_ids if item_ids is not None else pools.items)
    if len(ids) < 4:
        raise DataError(f"need at least 4 finished items to train a router, got {len(ids)}")
    plans = list(plans or pool_plans(pools, probe))
    if any(p.max_tier >= len(pools.tiers) for p in plans):
        raise ConfigError(f"a plan uses a tier the run lacks (it has {len(pools.tiers)})")
    if labels is None:
        labels = label_items(pools, plans, ids, reps, seed, unit, probe)
    elif labels.item_ids != ids or labels.correct.shape != (len(ids), len(plans)):
        raise ConfigError("labels must be for the training items and the plans, in order")
    raw = _design(pools, ids, probe)
    direct = float(labels.cost[:, 0].mean()) if plans[0].name == "cot@0" else 0.0
    scale_unit = direct or float(labels.cost.mean()) or 1.0
    if l2 is None:
        l2, _ = choose_l2(_standardise(raw, terms)[1], 0.02 + 0.96 * labels.correct, seed=seed)
    models, scaling = _fit_plans(raw, plans, labels, l2, terms, scale_unit)
    router = _router(models, scaling, terms, probe)
    router.tiers = [t.model for t in pools.tiers]
    router.meta = {
        "items": len(ids),
        "reps": reps,
        "cost_unit": f"cot@0 {unit}",
        "direct_cost": scale_unit,
        "l2": l2,
    }
    questions = [pools.items[i].question for i in ids]
    probes: list[Sample | None] = list(probes_of(pools, ids)) if probe else [None] * len(ids)
    if len(ids) >= 2 * CALIBRATION_FOLDS:
        forecast = crossfit(
            raw, plans, labels, l2, terms, scale_unit, questions, probes, probe, seed=seed
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
        router.support = support_of(raw[:, : len(FEATURES)])
    table = router.calibration
    router.lam = lam_for_budget(table, budget) if budget is not None else table[0]["lam"]
    return router
