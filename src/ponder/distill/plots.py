"""The loss curve of a training run: per-step loss, its moving average, validation."""

from __future__ import annotations

import json
from pathlib import Path

from ponder.eval.plots import pyplot, save_figure


def loss_plot(folder: Path, window: int = 10) -> Path | None:
    """``folder/loss.png`` from ``losses.jsonl`` and ``train.json``; None without steps."""
    log = folder / "losses.jsonl"
    if not log.exists():
        return None
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]
    if not entries:
        return None
    plt = pyplot()
    steps = [e["step"] for e in entries]
    losses = [e["loss"] for e in entries]
    smooth = [
        sum(losses[max(0, i - window + 1) : i + 1]) / len(losses[max(0, i - window + 1) : i + 1])
        for i in range(len(losses))
    ]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, losses, color="#bbbbbb", linewidth=0.8, label="train loss (step)")
    ax.plot(steps, smooth, color="#1f77b4", label=f"train loss ({window}-step mean)")
    summary_file = folder / "train.json"
    if summary_file.exists():
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        before, after = summary.get("val_loss_before"), summary.get("val_loss_after")
        if before is not None and after is not None:
            ax.plot([0, steps[-1]], [before, after], "o--", color="#d62728", label="validation")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("completion-token cross-entropy")
    ax.set_title(f"ponder distill train: {folder.name}")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, folder / "loss.png")
