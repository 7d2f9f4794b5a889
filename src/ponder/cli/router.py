"""``ponder router``: train a router from eval logs, inspect it, route a question."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from ponder.cli.common import cost_budget_of, cost_budget_options, stderr
from ponder.errors import ConfigError


@click.group("router")
def router() -> None:
    """Train and inspect the adaptive router."""


@router.command("train")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="router JSON")
@cost_budget_options("average cost target, in multiples of a direct answer's")
@click.option("--tiers", default=None, help="model order, '|'-separated (default: by size)")
@click.option("--reps", type=int, default=8, show_default=True, help="shuffles per soft label")
@click.option(
    "--unit",
    type=click.Choice(["dollars", "tokens"]),
    default="dollars",
    show_default=True,
    help="cost unit of the budget",
)
@click.option(
    "--probe",
    is_flag=False,
    flag_value="cot@0",
    default=None,
    metavar="[cot@T|pot@T]",
    help="route after one greedy draw, reading it too: tier 0's answer (--probe alone), "
    "or a tier's program (--probe pot@1)",
)
@click.option(
    "--probe-only",
    is_flag=True,
    help="with --probe: the plan models read the probe alone, not the question's text",
)
@click.option(
    "--l2",
    "l2_text",
    default="2",
    show_default=True,
    help="ridge strength of the plan models, or 'cv' to choose it by cross-validation",
)
@click.option(
    "--terms",
    type=click.Choice(["linear", "quadratic"]),
    default="linear",
    show_default=True,
    help="the plan models read the features as they are, or with their pairwise products",
)
def train(
    run_dirs: tuple[str, ...],
    out: str,
    cost_budget: float | None,
    budget: float | None,
    tiers: str | None,
    reps: int,
    unit: str,
    probe: str | None,
    probe_only: bool,
    l2_text: str,
    terms: str,
) -> None:
    """Train a router on the sampling-mode records of RUN_DIRS (run dirs or .jsonl[.gz])."""
    l2 = _ridge(l2_text)
    if probe_only and probe is None:
        raise ConfigError("--probe-only reads the probe alone: name one with --probe (pot@1)")
    budget = cost_budget_of(cost_budget, budget)
    from ponder.eval.pools import load_pools
    from ponder.eval.store import read_records
    from ponder.routing.training import train_router

    records = [r for d in run_dirs for r in read_records(d)]
    pools = load_pools(records)
    if tiers:
        pools = pools.reorder([t.strip() for t in tiers.split("|") if t.strip()])
    with stderr.status(f"training on {len(pools.items)} items x {len(pools.tiers)} tiers..."):
        trained = train_router(
            pools,
            budget=budget,
            reps=reps,
            unit=unit,
            probe=probe or False,
            l2=l2,
            terms=terms,
            text=not probe_only,
        )
    trained.save(out)
    click.echo(
        f"router with {len(trained.plans)} plans over tiers {' | '.join(trained.tiers)} "
        f"({trained.terms} terms, l2 {trained.meta['l2']:g}) -> {out}"
    )
    _calibration(trained.calibration, trained.lam, trained.meta["calibration"])


def _ridge(text: str) -> float | None:
    """``--l2``: a positive number, or "cv" (None: chosen by cross-validation)."""
    if text.strip().lower() == "cv":
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise click.BadParameter(f"a positive number or 'cv', got {text!r}", param_hint="--l2")
    return value


def _calibration(rows: list[dict[str, float]], lam: float, how: str) -> None:
    table = Table(
        "lam",
        "cost (x direct)",
        "accuracy %",
        title=f"budget calibration (training items, {how} predictions)",
        title_justify="left",
    )
    for row in rows:
        mark = " <" if row["lam"] == lam else ""
        table.add_row(f"{row['lam']:g}{mark}", f"{row['cost']:.2f}", f"{100 * row['accuracy']:.1f}")
    Console().print(table)


@router.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--question", "-q", multiple=True, help="route these questions and show the plans")
@click.option("--tiers", type=int, default=2, show_default=True, help="tiers available")
@cost_budget_options("average cost target, in multiples of a direct answer's")
def show(
    path: str | None,
    question: tuple[str, ...],
    tiers: int,
    cost_budget: float | None,
    budget: float | None,
) -> None:
    """Show a router (the shipped one without PATH) and, with -q, the plan per question."""
    budget = cost_budget_of(cost_budget, budget)
    from ponder.routing.router import rule_plan
    from ponder.routing.router_file import default_router, load_router

    loaded = load_router(path) if path else default_router()
    if loaded is None:
        click.echo("no router file: questions get rule-based plans")
        for q in question:
            click.echo(f"{rule_plan(q, tiers).name:28s} {q}")
        return
    if budget is not None:
        loaded = loaded.with_budget(budget)
    click.echo(
        f"tiers: {' | '.join(loaded.tiers) or '(not recorded)'}; lam={loaded.lam:g}; "
        f"{loaded.terms} terms"
    )
    table = Table("plan", "cost (x direct)", title="plans", title_justify="left")
    for p in loaded.plans:
        table.add_row(p.plan.name, f"{p.cost:.2f}")
    Console().print(table)
    if loaded.probe and question:
        from ponder.plans import describe_probe

        raise ConfigError(
            f"this router routes after a {describe_probe(loaded.probe)}: ask with "
            "`ponder ask -s auto:router=PATH` to see its plans"
        )
    for q in question:
        click.echo(f"{loaded.choose(q, tiers).name:28s} {q}")
