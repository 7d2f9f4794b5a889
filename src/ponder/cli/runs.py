"""What ``eval run`` and ``distill generate`` share: an eval run watched (progress on
stderr, Ctrl-C stops it at once) and its closing lines (exit 130 when interrupted, 1
past ``--max-failures``). The run itself is the library's (``ponder.eval.session``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ponder.budgets import TRUNCATION_WARN
from ponder.cli.interrupt import EXIT_INTERRUPTED, run_interruptible
from ponder.cli.progress import Tally, eval_progress

if TYPE_CHECKING:
    from ponder.eval.runner import RunSummary
    from ponder.eval.session import EvalRun


def watch_run(
    run: EvalRun, concurrency: int, max_failures: int | None
) -> tuple[RunSummary | None, Tally]:
    """Run with progress; the summary is None when Ctrl-C stopped it."""
    tally = Tally(run.backend.name)
    with eval_progress(tally) as (started, progress):
        job = run.run(
            concurrency=concurrency,
            max_failures=max_failures,
            progress=progress,
            started=started,
        )
        summary = run_interruptible(job)
    return summary, tally


def finish_run(summary: RunSummary | None, tally: Tally, where: Path, max_failures: int) -> None:
    """Print what the run did; exit 130 when interrupted, 1 past --max-failures."""
    if summary is None:
        click.echo(
            f"interrupted: {tally.ok} done, {tally.failed} failed this run; "
            f"finished items are kept in {where}; run the same command to resume",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if summary.changed:
        shown = ", ".join(summary.changed[:5]) + (", ..." if len(summary.changed) > 5 else "")
        click.echo(
            f"{len(summary.changed)} item(s) changed since they were stored and were "
            f"run again: {shown}",
            err=True,
        )
    not_run = f", {summary.not_run} not run" if summary.not_run else ""
    click.echo(
        f"{summary.finished} done, {summary.failed} failed, {summary.skipped} skipped "
        f"(already done){not_run} in {summary.wall_s:.1f} s -> {where}"
    )
    if summary.samples and summary.truncated > TRUNCATION_WARN * summary.samples:
        click.echo(
            f"warning: {summary.truncated} of {summary.samples} samples "
            f"({100 * summary.truncated / summary.samples:.0f}%) stopped at max_tokens; those "
            "without a final-answer marker abstain: raise max_tokens",
            err=True,
        )
    if summary.failed > max_failures:
        click.echo(
            f"{summary.failed} item(s) failed (over --max-failures {max_failures}): "
            f'their errors are in {where} ("error" field); the same command retries them',
            err=True,
        )
        sys.exit(1)
