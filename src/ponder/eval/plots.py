"""Accuracy-vs-cost plots (matplotlib, PNG) with the Pareto frontier and the router's point.

Strategies run live (``tot``, ``beam``, any spec run as is) are drawn as squares beside
the replayed ones, labelled by their scorer and budget. Points that sit on top of each
other share one label. The dollar panel is drawn only
when dollars say something tokens do not (real prices, or several tiers at different
notional prices); costs of zero put that axis on a linear scale, and an axis on which
nothing costs anything (no price, no parameter count) gives way to tokens."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ponder.errors import ConfigError
from ponder.eval.replay import Point, pareto

AXES = (
    ("tokens", "mean tokens per question (log)"),
    ("dollars", "mean $ per 1k questions (log; notional for local models)"),
)
FLOPS_AXIS = ("flops", "mean FLOPs per question (log; 2 x active parameters x tokens)")


def pyplot() -> Any:
    """matplotlib's pyplot, drawing to files (Agg); ConfigError when it is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plots need matplotlib: pip install 'ponder[eval]'") from exc
    return plt


def save_figure(fig: Any, path: str | Path) -> Path:
    """``fig`` laid out tight, written to ``path`` as a PNG (110 dpi) and closed."""
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    pyplot().close(fig)
    return out


def _tier(name: str) -> str:
    return name.rsplit("@", 1)[-1] if "@" in name else name


_SHOWN = ("n", "k", "b", "scorer", "evaluate", "budget", "token_budget")


def short_label(name: str) -> str:
    """A point's label: its spec without the tier, and a live spec with only the options
    that tell searches apart (``beam scorer=calc,token_budget=400 [live]``)."""
    spec = name.rsplit("@", 1)[0]
    if not spec.endswith(" [live]") or ":" not in spec:
        return spec
    strategy, _, options = spec.removesuffix(" [live]").partition(":")
    kept = [o for o in options.split(",") if o.split("=")[0] in _SHOWN]
    return f"{strategy} {','.join(kept)} [live]".replace("  ", " ")


def _labels(
    fixed: Sequence[Point], cost: str, scale: float
) -> dict[tuple[float, float], list[str]]:
    """One label per spot: names of points within 5% in cost and 1 point of accuracy of
    the spot's first point."""
    spots: dict[tuple[float, float], list[str]] = {}
    for p in fixed:
        x, y = getattr(p, cost) * scale, 100 * p.accuracy
        spot = next((s for s in spots if _close(s, (x, y))), (x, y))
        spots.setdefault(spot, []).append(short_label(p.name))
    return spots


def _close(a: tuple[float, float], b: tuple[float, float]) -> bool:
    (ax, ay), (bx, by) = a, b
    same_x = ax == bx or (ax > 0 and bx > 0 and abs(math.log(ax / bx)) < 0.05)
    return same_x and abs(ay - by) <= 1.0


def dollars_add_information(fixed: Sequence[Point]) -> bool:
    """False when every point's dollars are zero or the same multiple of its tokens."""
    ratios = {round(p.dollars / p.tokens, 15) for p in fixed if p.tokens > 0}
    return any(p.dollars > 0 for p in fixed) and len(ratios) > 1


def _panel(
    ax: Any,
    fixed: Sequence[Point],
    routers: Sequence[Point],
    cost: str,
    label: str,
    colors: dict[str, str],
    live: Sequence[Point] = (),
) -> None:
    scale = 1000.0 if cost == "dollars" else 1.0
    for points, marker in ((fixed, "o"), (live, "s")):
        for p in points:
            below, above = max(p.accuracy - p.low, 0.0), max(p.high - p.accuracy, 0.0)
            ax.errorbar(
                getattr(p, cost) * scale,
                100 * p.accuracy,
                yerr=[[100 * below], [100 * above]],
                fmt=marker,
                color=colors[_tier(p.name)],
                alpha=0.75,
                ms=5,
                capsize=2,
            )
    for (x, y), names in _labels([*fixed, *live], cost, scale).items():
        ax.annotate(", ".join(names), (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
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
    for k, router in enumerate(routers):
        ax.errorbar(
            getattr(router, cost) * scale,
            100 * router.accuracy,
            yerr=[
                [100 * max(router.accuracy - router.low, 0.0)],
                [100 * max(router.high - router.accuracy, 0.0)],
            ],
            fmt="*",
            ms=16,
            color=("crimson", "black", "purple", "gold")[k % 4],
            capsize=3,
            label=f"{router.name} (router)",
        )
    for tier, color in colors.items():
        ax.plot([], [], "o", color=color, label=tier)
    if live:
        ax.plot([], [], "s", color="gray", label="run live (as measured)")
    if all(getattr(p, cost) > 0 for p in [*fixed, *live]):
        ax.set_xscale("log")
        from matplotlib.ticker import NullFormatter

        ax.xaxis.set_minor_formatter(NullFormatter())  # labelled decades only: no overlap
    else:
        label = label.replace(" (log", " (")
    ax.set_xlabel(label)
    ax.set_ylabel("accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def plot_accuracy_vs_cost(
    fixed: Sequence[Point],
    router: Point | Sequence[Point] | None,
    path: str | Path,
    title: str = "",
    live: Sequence[Point] = (),
    axes: Sequence[tuple[str, str]] | None = None,
) -> Path:
    """Two panels (tokens, dollars), or the ``axes`` given (e.g. ``[FLOPS_AXIS]``): every
    fixed strategy, its frontier, the router (one point, or several: a sequence), and
    the strategies run live (squares; not part of the frontier)."""
    plt = pyplot()
    if axes is None:
        axes = AXES if dollars_add_information([*fixed, *live]) else AXES[:1]
    # an axis on which nothing costs anything (no price, no parameter count) would draw
    # its frontier as one point: tokens stand in for it
    axes = [a for a in axes if any(getattr(p, a[0]) > 0 for p in [*fixed, *live])] or AXES[:1]
    routers = [router] if isinstance(router, Point) else list(router or ())
    fig, panels = plt.subplots(1, len(axes), figsize=(6.5 * len(axes), 5.2), squeeze=False)
    tiers = sorted({_tier(p.name) for p in [*fixed, *live]})
    colors = {t: f"C{i}" for i, t in enumerate(tiers)}
    for ax, (cost, label) in zip(panels[0], axes, strict=True):
        _panel(ax, fixed, routers, cost, label, colors, live)
    fig.suptitle(title or "accuracy vs cost")
    return save_figure(fig, path)
