"""Accuracy-vs-cost plots (matplotlib, PNG) with the Pareto frontier and the router's point."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ponder.errors import ConfigError
from ponder.eval.replay import Point, pareto

AXES = (
    ("tokens", "mean tokens per question (log)"),
    ("dollars", "mean $ per 1k questions (log; notional for local models)"),
)


def _tier(name: str) -> str:
    return name.rsplit("@", 1)[-1] if "@" in name else name


def _panel(
    ax: Any,
    fixed: Sequence[Point],
    router: Point | None,
    cost: str,
    label: str,
    colors: dict[str, str],
) -> None:
    scale = 1000.0 if cost == "dollars" else 1.0
    for p in fixed:
        x = getattr(p, cost) * scale
        below, above = max(p.accuracy - p.low, 0.0), max(p.high - p.accuracy, 0.0)
        ax.errorbar(
            x,
            100 * p.accuracy,
            yerr=[[100 * below], [100 * above]],
            fmt="o",
            color=colors[_tier(p.name)],
            alpha=0.75,
            ms=5,
            capsize=2,
        )
        ax.annotate(
            p.name.split("@")[0],
            (x, 100 * p.accuracy),
            fontsize=6,
            xytext=(3, 3),
            textcoords="offset points",
        )
    front = pareto([p for p in fixed if not p.name.startswith("pass@")], cost)
    ax.step(
        [getattr(p, cost) * scale for p in front],
        [100 * p.accuracy for p in front],
        where="post",
        color="gray",
        ls="--",
        lw=1,
        label="Pareto frontier (fixed)",
    )
    if router is not None:
        ax.plot(
            getattr(router, cost) * scale,
            100 * router.accuracy,
            "*",
            ms=16,
            color="crimson",
            label=f"{router.name} (router)",
        )
    for tier, color in colors.items():
        ax.plot([], [], "o", color=color, label=tier)
    ax.set_xscale("log")
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def plot_accuracy_vs_cost(
    fixed: Sequence[Point], router: Point | None, path: str | Path, title: str = ""
) -> Path:
    """Two panels (tokens, dollars): every fixed strategy, its frontier, and the router."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plots need matplotlib: pip install 'ponder[eval]'") from exc
    fig, panels = plt.subplots(1, 2, figsize=(13, 5.2))
    tiers = sorted({_tier(p.name) for p in fixed})
    colors = {t: f"C{i}" for i, t in enumerate(tiers)}
    for ax, (cost, label) in zip(panels, AXES, strict=True):
        _panel(ax, fixed, router, cost, label, colors)
    fig.suptitle(title or "accuracy vs cost")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
