"""Time per token against total and active parameters, and the expert load of a batch.

The numbers behind ``ponder moe bench``: one MoE layer per (E, K) pair, all with the same
expert width, timed on the same batch; the cost follows the active parameters (K experts),
not the total (E experts).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch

from ponder.moe.config import MoEConfig
from ponder.moe.errors import MoEConfigError
from ponder.moe.layer import MoELayer
from ponder.moe.losses import LoadStats


def set_threads(threads: int) -> None:
    """Set torch's intra-op threads explicitly: oversubscribed cores run many times slower."""
    if threads < 1:
        raise MoEConfigError(f"threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)


def time_per_call(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` calls.

    With one torch thread the work runs on the calling thread, so its CPU time is measured
    (robust to a shared machine); with more, wall time."""
    if repeats < 1:
        raise MoEConfigError(f"repeats must be at least 1, got {repeats}")
    clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
    with torch.no_grad():
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            start = clock()
            fn()
            times.append(clock() - start)
    return statistics.median(times)


@dataclass(frozen=True)
class SweepRow:
    num_experts: int
    top_k: int
    total_params: int
    active_params: int
    tokens: int
    us_per_token: float


def sweep(
    hidden: int,
    intermediate: int,
    experts: Sequence[int],
    top_ks: Sequence[int],
    tokens: int,
    repeats: int = 3,
    seed: int = 0,
) -> list[SweepRow]:
    """Time one layer per valid (E, K) pair (K <= E) on one random batch of ``tokens``."""
    torch.manual_seed(seed)
    x = torch.randn(tokens, hidden)
    rows = []
    for e in experts:
        for k in top_ks:
            if k > e:
                continue
            cfg = MoEConfig(
                hidden_size=hidden, expert_intermediate=intermediate, num_experts=e, top_k=k
            )
            seconds = time_per_call(partial(MoELayer(cfg), x), repeats)
            us = seconds / tokens * 1e6
            rows.append(SweepRow(e, k, cfg.total_params, cfg.active_params, tokens, us))
    if not rows:
        raise MoEConfigError("no (experts, top_k) pair with top_k <= experts; widen the sweep")
    return rows


def load_of_batch(cfg: MoEConfig, tokens: int, seed: int = 0) -> LoadStats:
    """The per-expert load when a fresh layer routes ``tokens`` random tokens."""
    torch.manual_seed(seed)
    layer = MoELayer(cfg)
    with torch.no_grad():
        return layer.run(torch.randn(tokens, cfg.hidden_size)).stats


def report(rows: Sequence[SweepRow], stats: LoadStats) -> dict[str, Any]:
    return {"sweep": [asdict(r) for r in rows], "load": stats.to_dict()}


def plot(rows: Sequence[SweepRow], stats: LoadStats, path: str) -> None:
    """Three panels: time per token vs total parameters, vs active parameters, the load."""
    try:
        import matplotlib
    except ImportError as exc:
        raise MoEConfigError("plotting needs matplotlib: pip install 'ponder[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for k in sorted({r.top_k for r in rows}):
        pts = sorted((r.total_params, r.us_per_token) for r in rows if r.top_k == k)
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"K={k}")
    axes[0].legend(fontsize=8)
    axes[1].scatter([r.active_params for r in rows], [r.us_per_token for r in rows])
    for r in rows:
        label = f"E={r.num_experts},K={r.top_k}"
        axes[1].annotate(label, (r.active_params, r.us_per_token), fontsize=7)
    for ax, label in ((axes[0], "total parameters"), (axes[1], "active parameters")):
        ax.set_xlabel(label)
        ax.set_ylabel("µs per token")
    load = stats.tokens_per_expert
    axes[2].bar(range(len(load)), load)
    axes[2].set_xlabel("expert")
    axes[2].set_ylabel("token assignments")
    axes[2].set_title(f"load, balance {stats.balance:.3f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
