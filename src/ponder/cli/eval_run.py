"""``ponder eval run``: everything is checked before the first model call; the run
holds its directory's lock, stops at once on Ctrl-C (exit 130), prints what it did and
exits non-zero when more items failed than ``--max-failures``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ponder.budgets import TRUNCATION_WARN
from ponder.cli.common import THREADS_HELP, ensure_model, ensure_tiers, with_threads
from ponder.cli.interrupt import EXIT_INTERRUPTED, run_interruptible
from ponder.cli.progress import Tally, eval_progress
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL

if TYPE_CHECKING:
    from ponder.eval.runner import RunSummary


def _levels(value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--levels must be comma-separated integers, got {value!r}") from None


def _items(
    suite: str | None,
    data: str | None,
    limit: int | None,
    per_level: int,
    levels: str | None,
    seed: int,
    require_answer: bool = True,
) -> list[Any]:
    """Suite or dataset items (``require_answer`` False: dataset items may lack a gold
    answer, as distillation labels them by agreement)."""
    from ponder.eval.datasets import load_jsonl
    from ponder.eval.suites import suite_items

    if (suite is None) == (data is None):
        raise ConfigError("give exactly one of --suite NAME or --data FILE.jsonl")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    if suite is not None:
        return suite_items(suite, limit or per_level, seed, _levels(levels))
    if levels:
        raise ConfigError("--levels applies to --suite, not --data")
    items = load_jsonl(str(data), require_answer)
    return items[:limit] if limit else items


@click.command("run")
@click.option(
    "--suite", default=None, help="built-in suite(s): arith, compare, count, countdown, all"
)
@click.option(
    "--data", type=click.Path(dir_okay=False), default=None, help="a JSONL dataset instead"
)
@click.option(
    "--model", "-m", default=f"embedded:{DEFAULT_MODEL}", show_default=True, help="backend spec"
)
@click.option(
    "--strategy",
    "-s",
    "strategies",
    multiple=True,
    required=True,
    help="strategy spec (repeatable), or sample:n=16 to store samples for replay",
)
@click.option("--out", type=click.Path(file_okay=False), required=True, help="run directory")
@click.option("--limit", type=int, default=None, help="at most N items (per level for suites)")
@click.option("--per-level", type=int, default=20, show_default=True, help="suite items per level")
@click.option("--levels", default=None, help="suite levels to run, e.g. 1,2,3")
@click.option("--seed", type=int, default=0, show_default=True, help="suite seed")
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="items in flight at once",
)
@click.option(
    "--max-failures",
    type=click.IntRange(0),
    default=None,
    help="failed items tolerated: beyond it no new item starts (default: run every item; "
    "any failure makes the exit code 1)",
)
@click.option("--threads", type=int, default=None, help=THREADS_HELP)
def run(
    suite: str | None,
    data: str | None,
    model: str,
    strategies: tuple[str, ...],
    out: str,
    limit: int | None,
    per_level: int,
    levels: str | None,
    seed: int,
    concurrency: int,
    max_failures: int | None,
    threads: int | None,
) -> None:
    """Run strategies over a suite or dataset; resumable, every sample stored in OUT."""
    items = _items(suite, data, limit, per_level, levels, seed)
    meta: dict[str, Any] = {"suite": suite, "data": data, "seed": seed}
    summary, tally = execute(
        items, model, strategies, out, concurrency, max_failures, threads, meta
    )
    _finish(summary, tally, Path(out) / "records.jsonl", max_failures or 0)


def execute(
    items: list[Any],
    model: str,
    strategies: tuple[str, ...],
    out: str,
    concurrency: int,
    max_failures: int | None,
    threads: int | None,
    meta: dict[str, Any],
) -> tuple[RunSummary | None, Tally]:
    """Run ``strategies`` over ``items`` into the store ``out`` (locked, resumable, with
    progress); the summary is None when Ctrl-C stopped it."""
    from ponder.backends import load_backend
    from ponder.eval.lock import run_lock
    from ponder.eval.runner import check_specs, run_eval
    from ponder.eval.store import SampleStore

    ensure_tiers(strategies)
    check_specs(strategies)
    model = with_threads(model, threads)
    meta = {"model": model, "strategies": list(strategies), **meta, "items": len(items)}
    store = SampleStore(out)
    with run_lock(out):
        store.claim(meta)
        ensure_model(model)
        backend = load_backend(model)
        tally = Tally(backend.name)
        with eval_progress(tally) as (started, progress):
            job = run_eval(
                items,
                backend,
                list(strategies),
                store,
                model=model,
                concurrency=concurrency,
                progress=progress,
                started=started,
                max_failures=max_failures,
            )
            summary = run_interruptible(job)
    return summary, tally


def _finish(summary: RunSummary | None, tally: Tally, where: Path, max_failures: int) -> None:
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
