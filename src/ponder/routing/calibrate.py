"""Budget calibration: choose the router's trade-off so the average cost hits a target.

RouteLLM calibrates a threshold to a share of calls sent to the strong model; here the
target is in cost units: a multiple of the direct baseline (one greedy sample on tier
0), measured in dollars (real or notional prices) on the training questions. The
table maps each trade-off ``lam`` to the average cost and accuracy it gave, so a
budget can be set later without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ponder.errors import ConfigError

LAMS = (0.0, *(round(1e-4 * 10 ** (k / 24), 7) for k in range(121)), 1000.0)
"""Trade-offs tried: 0, then 1e-4 to 10 in 120 geometric steps (each 10% above the last, so
adjacent settings differ little in cost and a budget is spent, not undershot), then
'cheapest always'."""


def picks_at(
    probs: np.ndarray, plan_cost: np.ndarray, lam: float, forced: np.ndarray | None = None
) -> np.ndarray:
    """Per question (rows of ``probs``, P(correct) per plan), the plan a router picks at
    trade-off ``lam``: the most P(correct) - lam * cost, ties to the cheaper plan and
    then the earlier one, as ``Router.route`` picks. ``plan_cost`` is per plan or per
    question and plan; ``forced`` (a plan index per question, -1 for none) overrides."""
    cost = np.broadcast_to(plan_cost, probs.shape)
    value = probs - lam * cost
    top = value.max(axis=1, keepdims=True)
    picks = np.where(value == top, cost, np.inf).argmin(axis=1)
    if forced is not None:
        picks = np.where(forced >= 0, forced, picks)
    return picks


def calibration_table(
    probs: np.ndarray,
    plan_cost: np.ndarray,
    correct: np.ndarray,
    cost: np.ndarray,
    lams: Sequence[float] = LAMS,
    forced: np.ndarray | None = None,
) -> list[dict[str, float]]:
    """For each ``lam``: the mean cost (x direct) and accuracy of the plans it picks.

    ``probs`` are the router's predictions for each question and plan (questions x plans,
    in the router's plan order), ``plan_cost`` each plan's cost as the router expects it
    (per plan, or per question and plan), ``correct`` and ``cost`` what each plan really
    scored and spent on each question, and ``forced`` the plan a question gets whatever
    the predictions say (-1: none), such as the safe plan outside the training data.
    Predictions from models that did not see the question (cross-fitted) make the table
    an honest forecast for new questions; in-sample ones make it optimistic.
    """
    rows = np.arange(probs.shape[0])
    table = []
    for lam in lams:
        picks = picks_at(probs, plan_cost, lam, forced)
        table.append(
            {
                "lam": float(lam),
                "cost": float(cost[rows, picks].mean()),
                "accuracy": float(correct[rows, picks].mean()),
            }
        )
    return table


def lam_for_budget(table: Sequence[dict[str, Any]], budget: float) -> float:
    """The smallest trade-off whose average cost is within ``budget`` (x direct): the most
    accurate setting that fits. A budget below every setting gets the cheapest one."""
    if budget <= 0:
        raise ConfigError(f"budget must be a positive multiple of direct's cost, got {budget}")
    if not table:
        return 0.0
    fitting = [row for row in table if row["cost"] <= budget + 1e-9]
    if not fitting:
        return float(max(table, key=lambda row: row["lam"])["lam"])
    return float(min(fitting, key=lambda row: row["lam"])["lam"])
