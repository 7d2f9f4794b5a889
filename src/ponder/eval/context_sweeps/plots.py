"""The two pictures of a sweep: a depth x length heatmap and a position curve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ponder.errors import ConfigError
from ponder.eval.context_sweeps.results import Cell
from ponder.eval.plots import pyplot, save_figure


def heatmap(cells: Mapping[tuple[int, float], Cell], path: str | Path, title: str = "") -> Path:
    """Accuracy per (needle depth, context length), gkamradt's picture, values printed."""
    if not cells:
        raise ConfigError("no finished cells to plot")
    plt = pyplot()
    lengths = sorted({length for length, _ in cells})
    depths = sorted({depth for _, depth in cells})
    values = [
        [cells[(x, d)].mean if (x, d) in cells else float("nan") for x in lengths] for d in depths
    ]
    fig, ax = plt.subplots(figsize=(1.2 * len(lengths) + 3, 0.6 * len(depths) + 2.4))
    image = ax.imshow(values, cmap="RdYlGn", vmin=0.0, vmax=1.0, aspect="auto")
    for row, d in enumerate(depths):
        for col, x in enumerate(lengths):
            if (x, d) in cells:
                ax.text(col, row, f"{100 * cells[(x, d)].mean:.0f}", ha="center", va="center")
    ax.set_xticks(range(len(lengths)), [str(x) for x in lengths])
    ax.set_yticks(range(len(depths)), [f"{100 * d:.0f}%" for d in depths])
    ax.set_xlabel("context length (tokens)")
    ax.set_ylabel("needle depth (0% = start)")
    fig.colorbar(image, ax=ax, label="accuracy")
    ax.set_title(title or "needle in a haystack")
    return save_figure(fig, path)


@dataclass(frozen=True)
class Series:
    """One line of a position plot; ``reference``: a horizontal line (closed-book)."""

    label: str
    points: Mapping[int, float]
    items: int
    reference: float | None = None


def positions(
    series: Sequence[Series],
    path: str | Path,
    title: str = "",
    xlabel: str = "position of the relevant item",
) -> Path:
    """Accuracy vs position, one line per series. Positions are drawn relative
    (first = 0, last = 1) when the series have different item counts, so a 10-document
    curve and Liu's 20-document curve share the axis."""
    if not series:
        raise ConfigError("no series to plot")
    plt = pyplot()
    relative = len({s.items for s in series}) > 1
    fig, ax = plt.subplots(figsize=(8, 5.6))
    for i, s in enumerate(series):
        keys = sorted(s.points)
        xs = [(k - 1) / max(s.items - 1, 1) if relative else k for k in keys]
        ax.plot(xs, [100 * s.points[k] for k in keys], "o-", color=f"C{i}", label=s.label)
        if s.reference is not None:
            ax.axhline(
                100 * s.reference, color=f"C{i}", ls="--", lw=1, label=f"{s.label}: closed-book"
            )
    ax.set_xlabel(f"{xlabel} ({'relative: first = 0, last = 1' if relative else '1 = first'})")
    if not relative:
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
    ax.set_title(title or "accuracy by position")
    return save_figure(fig, path)
