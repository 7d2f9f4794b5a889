"""``ponder context``: position sweeps (NIAH, KV, multi-document QA) and their plots."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ponder.cli.common import ensure_model, stderr
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL

MODEL_HELP = "backend spec (embedded specs get a context that fits unless ctx= is given)"


def _ints(value: str, name: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated integers, got {value!r}") from None


def _floats(value: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated numbers, got {value!r}") from None


@contextmanager
def _progress_bar(name: str) -> Iterator[Callable[[int, int, dict[str, Any]], None]]:
    from ponder.eval.store import Record

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("score {task.fields[score]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=stderr) as bar:
        task = bar.add_task(name, total=None, score="-")
        scores: list[float] = []

        def progress(done: int, total: int, line: dict[str, Any]) -> None:
            record = Record.from_dict(line)
            if not record.error:
                scores.append(float(record.score or 0.0))
            shown = f"{100 * sum(scores) / len(scores):.0f}%" if scores else "-"
            bar.update(task, completed=done, total=total, score=shown)

        yield progress


def _run(
    spec: str,
    out: str,
    cases_for: Callable[[Any], Sequence[Any]],
    tokens: int,
    concurrency: int,
    meta: dict[str, Any],
) -> None:
    """Load the backend, build the cases with its tokenizer, run them into OUT."""
    from ponder.backends import load_backend
    from ponder.context.tokens import tokenizer_for
    from ponder.eval.context_sweeps.sweep import run_cases, sized_spec
    from ponder.eval.store import SampleStore

    spec = sized_spec(spec, tokens)
    ensure_model(spec)
    backend = load_backend(spec)
    tokenizer = tokenizer_for(backend)
    stderr.print(f"tokens: {tokenizer.source}" + ("" if tokenizer.exact else " (estimated)"))
    cases = cases_for(tokenizer)
    store = SampleStore(out)
    store.write_meta({**meta, "model": spec, "tokenizer": tokenizer.source})
    with _progress_bar(backend.name) as progress:
        job = run_cases(
            cases, backend, store, model=spec, concurrency=concurrency, progress=progress
        )
        summary = asyncio.run(job)
    click.echo(
        f"{summary.finished} finished, {summary.failed} failed, {summary.skipped} already done "
        f"({summary.wall_s:.1f} s, {summary.prompt_tokens} prompt tokens) "
        f"-> {out}"
    )
    if summary.failed:
        click.echo("failed cases are retried by running the same command again", err=True)
    _report([out])


def _common(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--model", "-m", default=f"embedded:{DEFAULT_MODEL}", show_default=True, help=MODEL_HELP
        ),
        click.option(
            "--out",
            "out",
            type=click.Path(file_okay=False),
            required=True,
            help="run directory (resumable; the same store as `eval run`)",
        ),
        click.option(
            "--samples",
            type=click.IntRange(1, 100),
            default=1,
            show_default=True,
            help="prompts per cell, each with its own needle or data",
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--concurrency",
            "-c",
            type=click.IntRange(1, 64),
            default=1,
            show_default=True,
            help="prompts in flight at once",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group("context")
def context_group() -> None:
    """Measure how a model uses long contexts: NIAH, key-value and multi-document QA."""


@context_group.command("niah")
@_common
@click.option(
    "--lengths",
    default="800,1600,2400,3200,4000",
    show_default=True,
    help="context lengths in the model's tokens",
)
@click.option(
    "--depths",
    default="0,0.25,0.5,0.75,1",
    show_default=True,
    help="needle depths (0: start, 1: end)",
)
@click.option(
    "--mode",
    type=click.Choice(["single", "multi", "multikey"]),
    default="single",
    show_default=True,
)
@click.option("--needles", type=int, default=None, help="needles (multi, multikey; default 4)")
@click.option("--filler", type=click.Choice(["prose", "noise"]), default="prose", show_default=True)
def niah(
    model: str,
    out: str,
    samples: int,
    seed: int,
    concurrency: int,
    lengths: str,
    depths: str,
    mode: str,
    needles: int | None,
    filler: str,
) -> None:
    """Needle in a haystack over a grid of lengths x depths; writes OUT/heatmap.png."""
    from ponder.eval.context_sweeps.niah import NiahSpec, niah_cases

    spec = NiahSpec(
        _ints(lengths, "--lengths"),
        _floats(depths, "--depths"),
        mode,
        needles or (1 if mode == "single" else 4),
        filler,
        samples,
        seed,
    )
    _run(
        model,
        out,
        lambda tok: niah_cases(spec, tok),
        max(spec.lengths) + 64,
        concurrency,
        {"task": spec.task, "lengths": spec.lengths, "depths": spec.depths},
    )


def _positions(value: str | None, items: int) -> tuple[int, ...]:
    if value is None:
        return tuple(sorted({1, (items + 1) // 2, items, max(1, items // 4), items * 3 // 4}))
    found = _ints(value, "--positions")
    if any(not 1 <= p <= items for p in found):
        raise ConfigError(f"--positions must lie between 1 and {items}")
    return found


@context_group.command("kv")
@_common
@click.option("--pairs", type=int, default=25, show_default=True, help="UUID pairs in the JSON")
@click.option("--positions", default=None, help="key positions to ask (default: 5 spread)")
def kv(
    model: str,
    out: str,
    samples: int,
    seed: int,
    concurrency: int,
    pairs: int,
    positions: str | None,
) -> None:
    """Liu et al.'s key-value retrieval: ask for the key at each position; OUT/positions.png."""
    from ponder.eval.context_sweeps.kv import kv_case

    if not 2 <= pairs <= 2000:
        raise ConfigError(f"--pairs must be between 2 and 2000, got {pairs}")
    where = _positions(positions, pairs)

    def cases(tok: Any) -> list[Any]:
        return [kv_case(pairs, p, seed, s, tok) for s in range(samples) for p in where]

    _run(model, out, cases, pairs * 80 + 128, concurrency, {"task": "kv", "pairs": pairs})


@context_group.command("docs")
@_common
@click.option(
    "--docs", "items", type=int, default=10, show_default=True, help="documents per question"
)
@click.option("--positions", default=None, help="answer ranks to test (default: 5 spread)")
@click.option(
    "--order",
    "orders",
    default="natural",
    show_default=True,
    help="layouts to compare, comma-separated: natural, ends, ends-reversed, recency",
)
def docs(
    model: str,
    out: str,
    samples: int,
    seed: int,
    concurrency: int,
    items: int,
    positions: str | None,
    orders: str,
) -> None:
    """Multi-document QA with the answer moved first to last; closed-book and oracle too."""
    from ponder.eval.context_sweeps.kv import docs_case, reference_case

    if not 2 <= items <= 200:
        raise ConfigError(f"--docs must be between 2 and 200, got {items}")
    ranks = _positions(positions, items)
    layouts = [o.strip() for o in orders.split(",") if o.strip()]

    def cases(tok: Any) -> list[Any]:
        refs = [
            reference_case(items, k, seed, s)
            for k in ("closed-book", "oracle")
            for s in range(samples)
        ]
        return refs + [
            docs_case(items, r, o, seed, s, tok)
            for o in layouts
            for s in range(samples)
            for r in ranks
        ]

    _run(
        model,
        out,
        cases,
        items * 70 + 128,
        concurrency,
        {"task": "docs", "docs": items, "orders": layouts},
    )


@context_group.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="where to draw the plots (default: the first RUN_DIR)",
)
def report(run_dirs: tuple[str, ...], out: str | None) -> None:
    """Print the tables and redraw the plots of stored sweeps (run dirs or .jsonl[.gz]).

    Several runs (models) share one position plot."""
    _report(list(run_dirs), out)


def _report(run_dirs: list[str], out: str | None = None) -> None:
    from ponder.eval.context_sweeps.report import write_report
    from ponder.eval.store import read_records

    records = [r for d in run_dirs for r in read_records(d)]
    first = Path(run_dirs[0])
    result = write_report(records, Path(out) if out else first if first.is_dir() else first.parent)
    console = Console()
    for table in result.tables:
        shown = Table(*table.columns, title=table.title, title_justify="left")
        for row in table.rows:
            shown.add_row(*row)
        console.print(shown)
    for path in result.plots:
        click.echo(f"plot: {path}")
