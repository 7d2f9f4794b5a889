"""Budget calibration: choose the router's trade-off so the average cost hits a target.

RouteLLM calibrates a threshold to a share of calls sent to the strong model; here the
target is in cost units: a multiple of the direct baseline (one greedy sample on tier
0), measured in dollars (real or notional prices) on the training questions. The
table maps each trade-off ``lam`` to the average cost and accuracy it gave, so a
budget can be set later without the training data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ponder.errors import ConfigError

if TYPE_CHECKING:
    from ponder.routing.router import Router
    from ponder.types import Sample

LAMS = (0.0, *(round(1e-4 * 10 ** (k / 8), 7) for k in range(41)), 1000.0)
"""Trade-offs tried: 0, then 1e-4 to 10 in 40 geometric steps, then 'cheapest always'."""


def calibration_table(
    router: Router,
    questions: Sequence[str],
    correct: np.ndarray,
    cost: np.ndarray,
    lams: Sequence[float] = LAMS,
    probes: Sequence[Sample | None] | None = None,
) -> list[dict[str, float]]:
    """For each ``lam``: the mean cost (x direct) and accuracy of the plans it picks.

    ``correct`` and ``cost`` are (questions x plans) in the router's plan order;
    ``probes``, each question's greedy probe, for a router that routes after one.
    """
    index = {id(p.plan): j for j, p in enumerate(router.plans)}
    by_plan = {p.plan: index[id(p.plan)] for p in router.plans}
    table = []
    for lam in lams:
        picks = [
            by_plan[router.choose(q, lam=lam, probe=probes[i] if probes else None)]
            for i, q in enumerate(questions)
        ]
        rows = np.arange(len(questions))
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
