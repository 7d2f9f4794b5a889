"""``ponder eval extend``: carry a stored sampling run to a larger ``max_tokens`` by
continuing only its cut-off samples (``ponder.eval.extend``); resumable, Ctrl-C exits 130."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ponder.cli.common import THREADS_HELP, ensure_model, with_threads
from ponder.cli.interrupt import EXIT_INTERRUPTED, run_interruptible
from ponder.errors import ConfigError


@click.command("extend")
@click.argument("source", type=click.Path(exists=True))
@click.option("--max-tokens", type=click.IntRange(1), required=True, help="the new budget")
@click.option("--out", type=click.Path(file_okay=False), required=True, help="run directory")
@click.option(
    "--model", "-m", default=None, help="backend spec (default: the model that drew SOURCE)"
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1),
    default=2,
    show_default=True,
    help="records in flight at once",
)
@click.option(
    "--slots",
    type=click.IntRange(1),
    default=8,
    show_default=True,
    help="continuations in flight at once",
)
@click.option("--threads", type=int, default=None, help=THREADS_HELP)
def extend(
    source: str,
    max_tokens: int,
    out: str,
    model: str | None,
    concurrency: int,
    slots: int,
    threads: int | None,
) -> None:
    """Continue the cut-off samples of SOURCE (a run directory or an export) to
    --max-tokens, as if drawn with that budget; the records go to OUT."""
    from ponder.backends import load_backend
    from ponder.eval.extend import extend_records
    from ponder.eval.store import Record, SampleStore, read_records

    records = [r for r in read_records(source) if not Record.from_dict(r).error]
    drawn = sorted({Record.from_dict(r).model for r in records})
    if len(drawn) != 1:
        found = ", ".join(drawn) or "none"
        raise ConfigError(f"{source} must hold the records of one model; it holds {found}")
    spec = with_threads(model or drawn[0], threads)
    ensure_model(spec)
    backend = load_backend(spec)

    def progress(done: int, total: int, line: dict[str, Any]) -> None:
        record = Record.from_dict(line)
        extended = record.extended or {}
        click.echo(
            f"[{done}/{total}] {record.item_id}: "
            f"{extended.get('continued', 0)} continued in {extended.get('wall_s', 0)} s",
            err=True,
        )

    job = extend_records(
        records,
        backend,
        max_tokens,
        SampleStore(out),
        model=spec,
        concurrency=concurrency,
        slots=slots,
        progress=progress,
    )
    summary = run_interruptible(job)
    where = Path(out) / "records.jsonl"
    if summary is None:
        click.echo(f"interrupted: extended records are kept in {where}; run it again", err=True)
        sys.exit(EXIT_INTERRUPTED)
    click.echo(
        f"{summary.extended} records extended, {summary.skipped} skipped (already done); "
        f"{summary.continued} samples continued ({summary.tokens} tokens), "
        f"{summary.still_truncated} still cut off at {max_tokens}, "
        f"{summary.resplit} re-tokenised to another split at the join, "
        f"in {summary.wall_s:.1f} s -> {where}"
    )
