"""The numbers behind a router: logistic models of P(correct), log-linear cost models,
the ridge chosen by cross-validation, and the features' standardisation. Plain numpy
(the objective of scikit-learn's LogisticRegression without its import time); training
(``ponder.routing.training``) feeds them the labels replay gives.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from ponder.errors import DataError
from ponder.routing.features import expand


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


def standardise(
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
