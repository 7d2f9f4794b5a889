"""Points for strategies run live (not sampling mode), as they were measured: accuracy
with a 95% bootstrap interval over items, per suite:level accuracy, and mean cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ponder.eval.pools import record_params, tier_price
from ponder.eval.replay import Point
from ponder.eval.store import Record


def bootstrap_interval(
    correct: Sequence[float], reps: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """The 95% percentile bootstrap interval of the mean of ``correct`` over items."""
    values = np.asarray(correct, dtype=float)
    if values.size == 0:
        return 0.0, 0.0
    picks = np.random.default_rng(seed).integers(0, values.size, size=(reps, values.size))
    means = values[picks].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def record_group(record: Record) -> str:
    return f"{record.item.get('suite') or 'data'}:{record.item.get('difficulty') or '-'}"


def live_points(records: Sequence[dict[str, Any]], reps: int = 1000) -> list[Point]:
    """Accuracy and mean cost of strategies that were run live (not sampling mode)."""
    groups: dict[str, list[Record]] = {}
    for r in map(Record.from_dict, records):
        if not r.error and not r.strategy.startswith("sample"):
            name = f"{r.strategy} [live]@{r.model_label}"
            groups.setdefault(name, []).append(r)
    return [_point(name, rows, reps) for name, rows in groups.items()]


def _flops(record: Record, params: float | None, tokens: int) -> float:
    """The FLOPs the run counted (several tiers', for a cascade), else 2 x the model's
    active parameters x its tokens (a record stored without them)."""
    counted = float(record.cost.get("flops") or 0.0)
    return counted or 2.0 * (params or 0.0) * tokens


def _point(name: str, rows: list[Record], reps: int) -> Point:
    params = record_params(rows[0])
    price = tier_price(str(rows[0].model_name), params)
    usage = [r.usage for r in rows]
    prompt = [u.get("prompt_tokens", 0) for u in usage]
    completion = [u.get("completion_tokens", 0) for u in usage]
    dollars = [
        (p * price.input + c * price.output) / 1e6 for p, c in zip(prompt, completion, strict=True)
    ]
    correct = [float(bool(r.correct)) for r in rows]
    low, high = bootstrap_interval(correct, reps)
    by_group: dict[str, list[float]] = {}
    for r, ok in zip(rows, correct, strict=True):
        by_group.setdefault(record_group(r), []).append(ok)
    n = len(rows)
    drawn = sum(u.get("samples", 0) for u in usage)
    return Point(
        name,
        sum(correct) / n,
        low,
        high,
        (sum(prompt) + sum(completion)) / n,
        sum(dollars) / n,
        sum(_flops(r, params, p + c) for r, p, c in zip(rows, prompt, completion, strict=True)) / n,
        sum(u.get("samples", 0) for u in usage) / n,
        by_group={g: sum(v) / len(v) for g, v in sorted(by_group.items())},
        truncated=sum(u.get("truncated", 0) for u in usage) / drawn if drawn else 0.0,
    )
