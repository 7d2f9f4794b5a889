"""``ponder eval``: list suites, run strategies over a dataset, replay and report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ponder.cli.common import cost_budget_of, cost_budget_options, stderr
from ponder.cli.eval_extend import extend
from ponder.cli.eval_run import run
from ponder.errors import ConfigError


@click.group("eval")
def eval_group() -> None:
    """Evaluate strategies: suites, run, extend, replay, report."""


eval_group.add_command(run)
eval_group.add_command(extend)


@eval_group.command("suites")
def suites() -> None:
    """List the built-in suites and their difficulty levels."""
    from ponder.eval.suites import SUITES

    table = Table(
        "suite", "level", "what", "example", title="built-in suites", title_justify="left"
    )
    for suite in SUITES.values():
        for level, what in suite.levels.items():
            example = suite.items(1, seed=0, levels=[level])[0].question
            table.add_row(
                suite.name, str(level), what, example[:70] + ("..." if len(example) > 70 else "")
            )
    Console().print(table)


def _dump(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@eval_group.command("replay")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--reps", type=int, default=100, show_default=True, help="bootstrap repetitions")
@click.option(
    "--tiers", default=None, help="model order for tiers, ',' or '|'-separated (default: by size)"
)
@click.option("--oracle", is_flag=True, help="also show pass@N (a perfect verifier)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def replay_cmd(
    run_dirs: tuple[str, ...], reps: int, tiers: str | None, oracle: bool, as_json: bool
) -> None:
    """Replay every strategy from stored samples (run dirs or .jsonl[.gz]); no model calls."""
    from ponder.eval.pools import load_pools
    from ponder.eval.store import read_records
    from ponder.report import shortfall_notes
    from ponder.routing.compare import fixed_points

    pools = load_pools([r for d in run_dirs for r in read_records(d)])
    if tiers:
        pools = pools.reorder([t.strip() for t in tiers.replace("|", ",").split(",") if t.strip()])
    points = fixed_points(pools, reps=reps, oracle=oracle)
    if as_json:
        _dump([p.to_dict() for p in points])
        return
    table = Table(
        "strategy",
        "accuracy %",
        "95% CI",
        "tokens/q",
        "samples/q",
        "$/1k q",
        "cut %",
        title=f"replay of {len(pools.items)} items",
        title_justify="left",
    )
    for p in points:
        table.add_row(
            p.name,
            f"{100 * p.accuracy:.1f}",
            f"{100 * p.low:.0f}-{100 * p.high:.0f}",
            f"{p.tokens:.0f}",
            f"{p.samples:.1f}",
            f"{1000 * p.dollars:.4f}",
            f"{100 * p.truncated:.0f}",
        )
    Console().print(table)
    for note in shortfall_notes(points):
        click.echo(f"warning: {note}", err=True)


@eval_group.command("report")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False),
    default=None,
    help="where to write (default: RUN_DIR/report)",
)
@cost_budget_options(
    "the router's average cost, in multiples of a direct answer's (default: 40% of the "
    "best fixed strategy's cost)"
)
@click.option("--reps", type=int, default=100, show_default=True, help="bootstrap repetitions")
@click.option(
    "--folds", type=int, default=4, show_default=True, help="router cross-validation folds"
)
def report_cmd(
    run_dirs: tuple[str, ...],
    out: str | None,
    cost_budget: float | None,
    budget: float | None,
    reps: int,
    folds: int,
) -> None:
    """Write Markdown and HTML (plot, tables, headline) for RUN_DIRS (dirs or .jsonl[.gz]).

    Give the runs of every model tier together to see the router cascade across them."""
    from ponder.report import build_report, write_report

    if folds < 2:
        raise ConfigError(f"--folds must be at least 2, got {folds}")
    budget = cost_budget_of(cost_budget, budget)
    with stderr.status("replaying stored samples..."):
        report = build_report(list(run_dirs), budget=budget, reps=reps, folds=folds)
        first = Path(run_dirs[0])
        base = first if first.is_dir() else first.parent
        paths = write_report(report, out or base / "report")
    if report.headline:
        click.echo(report.headline.sentence)
    for kind, path in paths.items():
        click.echo(f"{kind}: {path}")


@eval_group.command("export")
@click.argument("run_dir", type=click.Path(exists=True))
@click.argument("out", type=click.Path(dir_okay=False))
@click.option("--full", is_flag=True, help="keep every token logprob (default: their mean)")
def export_cmd(run_dir: str, out: str, full: bool) -> None:
    """Copy RUN_DIR's finished records to OUT (.jsonl, or .jsonl.gz compressed) for sharing."""
    from ponder.eval.store import Record, compact, read_records, write_records

    records = [r for r in read_records(run_dir) if not Record.from_dict(r).error]
    path = write_records(records if full else [compact(r) for r in records], out)
    click.echo(f"{len(records)} records -> {path} ({path.stat().st_size / 1024:.0f} KiB)")
