"""What ``benchmarks/peers.py`` prints and draws from its stored rows: per data set, a
table of every arm, ponder's ratios to each optillm approach on the same tier, the
issue's targets, the replies the answer rule could not read, and one plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from peerslib.score import LADDER, Arm, Summary, best_within, ratio, summarise
from ponder.eval.plots import pyplot, save_figure


def report(
    rows: Sequence[dict[str, Any]], arms: Sequence[Arm], out: Path, reps: int, rule: str
) -> None:
    print(f"\nAnswer rule: {rule}")
    print("Tokens, FLOPs and requests are the upstream's (its /metrics), per question.")
    by_set: dict[str, list[Summary]] = {}
    for name in sorted({r["set"] for r in rows}):
        summaries = []
        for arm in arms:
            mine = [r for r in rows if r["set"] == name and r["key"] == arm.key]
            if mine:
                summaries.append(summarise(arm, mine, reps))
        by_set[name] = summaries
        print(f"\n== {name} ==")
        print_table(summaries)
        print_ratios(summaries)
        print_targets(summaries)
        print_defeats(summaries)
    if by_set:
        print(f"\nplot: {plot(by_set, out / 'peers.png')}")


def print_table(summaries: Sequence[Summary]) -> None:
    head = f"{'arm':<34}{'n':>4}{'acc %':>7}{'95% interval':>15}{'compl':>7}{'total':>7}"
    print(head + f"{'GFLOP':>8}{'req':>6}{'wall s':>8}{'err':>5}{'unread':>7}")
    for s in summaries:
        interval = f"[{100 * s.low:.0f}, {100 * s.high:.0f}]"
        print(
            f"{s.arm.label:<34}{s.items:>4}{100 * s.accuracy:>7.1f}{interval:>15}"
            f"{s.completion:>7.0f}{s.total:>7.0f}{s.flops / 1e9:>8.0f}{s.requests:>6.1f}"
            f"{s.wall_s:>8.1f}{s.errors:>5}{s.defeats:>7}"
        )


def print_ratios(summaries: Sequence[Summary]) -> None:
    """ponder arm vs optillm approach on the same tier (the ladder against every tier):
    accuracy difference in points, then ratios of total tokens and of wall time."""
    theirs = [s for s in summaries if s.arm.proxy == "optillm"]
    ours = [s for s in summaries if s.arm.proxy == "ponder"]
    if not theirs or not ours:
        return
    print("\nponder vs optillm: accuracy points / total tokens x / wall x")
    for tier in sorted({s.arm.tier for s in theirs}):
        cols = [s for s in theirs if s.arm.tier == tier]
        rows = [s for s in ours if s.arm.tier in (tier, LADDER)]
        print(f"{'@' + tier:<26}" + "".join(f"{c.arm.approach[:20]:>22}" for c in cols))
        for s in rows:
            cells = [_cell(s, c) for c in cols]
            print(f"{s.arm.approach + ' @' + s.arm.tier:<26}" + "".join(f"{c:>22}" for c in cells))


def _cell(ours: Summary, theirs: Summary) -> str:
    tokens, wall = ratio(ours.total, theirs.total), ratio(ours.wall_s, theirs.wall_s)
    points = 100 * (ours.accuracy - theirs.accuracy)
    return f"{points:+.0f} / {_x(tokens)} / {_x(wall)}"


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def print_targets(summaries: Sequence[Summary]) -> None:
    """Issue 28's targets: ponder's best arm at or below each optillm approach's tokens
    (same tier) is at least as accurate; auto over the ladder beats optillm's most
    accurate approach in accuracy per FLOP."""
    theirs = [s for s in summaries if s.arm.proxy == "optillm"]
    if not theirs:
        return
    print("\ntargets:")
    for t in theirs:
        ours = [s for s in summaries if s.arm.proxy == "ponder" and s.arm.tier == t.arm.tier]
        best = best_within(ours, t.total)
        if best is None:
            print(f"  {t.arm.label}: no ponder arm at or below its {t.total:.0f} tokens")
            continue
        gap = 100 * (best.accuracy - t.accuracy)
        verdict = "meets" if gap >= 0 else "misses"
        print(
            f"  {t.arm.label} ({100 * t.accuracy:.1f}% at {t.total:.0f} tok): ponder's best at "
            f"or below, {best.arm.approach} {100 * best.accuracy:.1f}% at {best.total:.0f} tok, "
            f"{gap:+.1f} points ({verdict})"
        )
    ladder = next((s for s in summaries if s.arm.tier == LADDER), None)
    top = max(theirs, key=lambda s: (s.accuracy, -s.flops))
    if ladder is not None and ladder.flops and top.flops:
        per = (
            (ladder.accuracy / ladder.flops) / (top.accuracy / top.flops) if top.accuracy else None
        )
        verdict = "meets" if per is None or per >= 1 else "misses"
        print(
            f"  auto @ladder {100 * ladder.accuracy:.1f}% at {ladder.flops / 1e9:.0f} GFLOP vs "
            f"optillm's most accurate, {top.arm.label} {100 * top.accuracy:.1f}% at "
            f"{top.flops / 1e9:.0f} GFLOP: accuracy per FLOP {_x(per)} ({verdict})"
        )


def print_defeats(summaries: Sequence[Summary]) -> None:
    troubled = [s for s in summaries if s.errors or s.defeats]
    if not troubled:
        return
    print("\nreplies the rule could not read (scored wrong) and errors:")
    for s in troubled:
        print(f"  {s.arm.label}: {s.defeats} unreadable, {s.errors} errors")
        for example in s.examples:
            print(f"    {example}")


def plot(by_set: dict[str, list[Summary]], path: Path) -> Path:
    plt = pyplot()
    fig, axes = plt.subplots(1, len(by_set), figsize=(7 * len(by_set), 5.5), squeeze=False)
    colours = {"0.5b": "tab:blue", "1.5b": "tab:orange", LADDER: "tab:green"}
    for ax, (name, summaries) in zip(axes[0], by_set.items(), strict=True):
        for s in summaries:
            marker = "o" if s.arm.proxy == "ponder" else "x"
            err = [[s.accuracy - s.low], [s.high - s.accuracy]]
            colour = colours.get(s.arm.tier, "tab:gray")
            ax.errorbar(s.total, s.accuracy, yerr=err, fmt=marker, color=colour, capsize=2)
            ax.annotate(f"{s.arm.proxy[0]}:{s.arm.approach}", (s.total, s.accuracy), fontsize=7)
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("upstream tokens per question (prompt + completion)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{name}: ponder (o) vs optillm (x); blue 0.5B, orange 1.5B, green ladder")
        ax.grid(alpha=0.3)
    return save_figure(fig, path)
