"""Where a router's training questions lay, and whether a new question is one of theirs.

A router keeps its training questions' text features (``Support``). A question farther
from every training question than the most isolated training question is from its
nearest other one (standardised features, with ``MARGIN`` to spare) is one the
classifiers never saw the like of. A new question from the same source as the training
questions is that isolated at most once in n + 1 (n training questions), whatever the
number of features; a check of each feature's range alone flagged about one in five new
word problems of the very levels a router was trained on (24 of them), since with many
features one is nearly always at the edge. Router files that store only the ranges
(before the distance check) are checked against the ranges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ponder.routing.features import FEATURES

if TYPE_CHECKING:
    import numpy as np

MARGIN = 0.1
"""How far past the training data a question may lie: a share of the most isolated
training question's distance to its nearest neighbour (or of a feature's range, for
router files that keep only the ranges)."""


@dataclass(frozen=True)
class Support:
    """Where a router's training questions lay: each text feature's range and, when
    kept, the questions' features themselves and how far a new question may be from the
    nearest of them (standardised over them)."""

    low: list[float]
    high: list[float]
    points: list[list[float]] | None = None
    radius: float | None = None

    @cached_property
    def standardised(self) -> tuple[list[float], list[float], list[list[float]]]:
        """The points' mean and spread per feature, and the points standardised by them."""
        points = self.points or []
        columns = list(zip(*points, strict=True))
        mean = [sum(c) / len(c) for c in columns]
        spread = [
            math.sqrt(sum((v - m) ** 2 for v in c) / len(c))
            for c, m in zip(columns, mean, strict=True)
        ]
        scale = [s if s > 1e-9 else 1.0 for s in spread]
        rows = [[(v - m) / s for v, m, s in zip(row, mean, scale, strict=True)] for row in points]
        return mean, scale, rows

    def distance(self, values: Sequence[float]) -> float:
        """The standardised distance from ``values`` to the nearest training question."""
        mean, scale, rows = self.standardised
        z = [(v - m) / s for v, m, s in zip(values, mean, scale, strict=True)]
        squared = (sum((a - b) ** 2 for a, b in zip(row, z, strict=True)) for row in rows)
        return math.sqrt(min(squared, default=0.0))

    def beyond(self, values: Sequence[float]) -> list[str]:
        """The features beyond their training range (by more than ``MARGIN`` of it)."""
        out = []
        for name, v, lo, hi in zip(FEATURES, values, self.low, self.high, strict=True):
            pad = MARGIN * (hi - lo)
            if v < lo - pad - 1e-9 or v > hi + pad + 1e-9:
                out.append(f"{name}={v:g} (trained on {lo:g}..{hi:g})")
        return out

    def outside(self, values: Sequence[float]) -> list[str]:
        """Why features ``values`` lie outside: the distance to the nearest training
        question, then the features beyond their range; empty when inside."""
        if not self.points or self.radius is None:
            return self.beyond(values)  # a router file from before the distance check
        distance = self.distance(values)
        if distance <= self.radius + 1e-9:
            return []
        head = f"nearest training question at distance {distance:.2f} (limit {self.radius:.2f})"
        return [head, *self.beyond(values)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.points is not None:
            out["radius"] = self.radius
            out["points"] = self.points
        return out


def support_of(rows: np.ndarray) -> Support:
    """Where training questions with text features ``rows`` lie: each feature's range,
    the rows themselves, and the limit on a new question's distance to the nearest of
    them: ``1 + MARGIN`` times the largest distance from a training question to the
    nearest one with other features (standardised over the rows, as ``Support`` does;
    templated questions repeat, and a duplicate's distance of 0 would shrink the limit to
    nothing). A new question from the same source lies that far at most once in n + 1:
    it would have to be the most isolated of the n + 1 questions, and each of them is
    that equally often (adding it only brings the training questions closer together)."""
    import numpy as np  # here, not at import: routing loads without numpy

    rows = np.asarray(rows, dtype=float)
    points = np.round(rows, 6)
    low, high = rows.min(axis=0), rows.max(axis=0)
    support = Support([float(v) for v in low], [float(v) for v in high], points.tolist())
    if len(rows) < 2:
        return replace(support, points=None)  # no neighbours to measure: ranges only
    z = np.array(support.standardised[2])
    squared = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=-1)
    squared[squared < 1e-12] = np.inf  # itself and its duplicates: the nearest *other*
    nearest = squared.min(axis=1)
    finite = nearest[np.isfinite(nearest)]
    radius = float((1.0 + MARGIN) * np.sqrt(finite.max())) if finite.size else 0.0
    return replace(support, radius=radius)
