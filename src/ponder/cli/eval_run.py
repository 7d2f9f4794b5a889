"""``ponder eval run``: everything is checked before the first model call; the run
holds its directory's lock, stops at once on Ctrl-C (exit 130), prints what it did and
exits non-zero when more items failed than ``--max-failures``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ponder.cli.common import THREADS_HELP, ensure_model, ensure_tiers, with_threads
from ponder.cli.runs import finish_run, watch_run
from ponder.models import DEFAULT_MODEL


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
    from ponder.eval.runner import check_specs
    from ponder.eval.session import open_run, select_items

    items = select_items(suite, data, limit, per_level, levels, seed)
    specs = check_specs(strategies)
    model = with_threads(model, threads)
    ensure_tiers(specs)
    meta: dict[str, Any] = {"suite": suite, "data": data, "seed": seed}
    with open_run(out, items, model, specs, meta, fetch=ensure_model) as job:
        summary, tally = watch_run(job, concurrency, max_failures)
    finish_run(summary, tally, Path(out) / "records.jsonl", max_failures or 0)
