"""Plots: per-GPU memory as stacked bars, KV cache against context length.

Matplotlib is imported inside each function (Agg backend), so importing the planner stays
fast and needs no display.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.capacity import MemoryPlan
from ponder.deploy.kv import kv_bytes_for_context
from ponder.deploy.size import SizeAdvice
from ponder.deploy.units import GIB
from ponder.errors import PlanError

_COLOURS = {
    "weights": "#4c72b0",
    "KV cache": "#55a868",
    "activations": "#dd8452",
    "overhead": "#8c8c8c",
}


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError as exc:  # pragma: no cover - matplotlib is an optional extra
        raise PlanError("plotting needs matplotlib: pip install 'ponder[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _stacked(
    labels: Sequence[str],
    parts: Mapping[str, Sequence[float]],
    title: str,
    path: str | Path,
    lines: Sequence[tuple[float, str]] = (),
) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(min(12.0, max(6.5, 0.8 * len(labels) + 4.5)), 4.8))
    bottom = [0.0] * len(labels)
    for name, values in parts.items():
        ax.bar(labels, values, bottom=bottom, label=name, color=_COLOURS.get(name))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for value, label in lines:
        ax.axhline(value, linestyle="--", color="black", linewidth=1)
        ax.text(-0.45, value, label, va="bottom", ha="left", fontsize=8)
    top = max([*bottom, *(value for value, _ in lines)])
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("GiB")
    if len(labels) > 4:
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out


def plot_memory(plan: MemoryPlan, path: str | Path) -> Path:
    """Stacked bars of one GPU per pipeline stage: weights, KV, activations, overhead."""
    stages = plan.stages
    parts = {
        "weights": [s.weights / GIB for s in stages],
        "KV cache": [max(0, s.kv_pool) / GIB for s in stages],
        "activations": [s.activations / GIB for s in stages],
        "overhead": [s.overhead / GIB for s in stages],
    }
    labels = [f"stage {s.stage}\n({s.layers} layers)" for s in stages]
    title = f"{plan.model} on {plan.gpu}\n{plan.layout.describe()}: memory per GPU"
    lines = [
        (stages[0].capacity / GIB, "GPU memory"),
        (stages[0].budget / GIB, f"budget ({plan.gpu_memory_utilization:g})"),
    ]
    return _stacked(labels, parts, title, path, lines)


def plot_size(advice: SizeAdvice, path: str | Path) -> Path:
    """Stacked bars of weights and KV per candidate model against usable memory."""
    c = advice.candidates
    parts = {
        "weights": [x.weight_bytes / GIB for x in c],
        "KV cache": [x.kv_bytes / GIB for x in c],
        "overhead": [(x.needed_bytes - x.weight_bytes - x.kv_bytes) / GIB for x in c],
    }
    lines = [(advice.usable_bytes / GIB, "usable memory")]
    return _stacked([x.name for x in c], parts, f"Model size ({advice.weight_dtype})", path, lines)


def plot_kv(arch: Architecture, context: int, kv_dtype: str, path: str | Path) -> Path:
    """KV-cache GiB of one request against context length, up to ``context``."""
    plt = _pyplot()
    points = [max(1, context * i // 50) for i in range(51)]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(points, [kv_bytes_for_context(arch, t, kv_dtype) / GIB for t in points])
    ax.set_xlabel("context tokens")
    ax.set_ylabel("KV cache, GiB")
    ax.set_title(f"{arch.name}: KV cache per request ({kv_dtype})")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
