"""``ponder moe``: time a MoE layer against its parameters; run it expert-parallel.

Thin: parse options, call :mod:`ponder.moe`, print a table or JSON.
"""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from ponder.cli.common import echo_json
from ponder.moe import ROUTERS, LoadStats, MoEConfig, MoEConfigError
from ponder.moe.bench import SweepRow, load_of_batch, plot, report, set_threads, sweep


def _ints(text: str, what: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise MoEConfigError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise MoEConfigError(f"{what} must be positive integers, got {text!r}")
    return values


@click.group(name="moe")
def moe_group() -> None:
    """A reference MoE layer: time it, see its load, run it expert-parallel."""


def _hist(stats: LoadStats, width: int = 40) -> list[str]:
    top = max(stats.tokens_per_expert) or 1
    return [
        f"expert {i:>3} {'#' * round(width * n / top):<{width}} {n}"
        for i, n in enumerate(stats.tokens_per_expert)
    ]


def _table(rows: list[SweepRow]) -> Table:
    table = Table("experts", "top-k", "total params", "active params", "µs / token", "vs first")
    base = rows[0].us_per_token
    for r in rows:
        table.add_row(
            str(r.num_experts),
            str(r.top_k),
            f"{r.total_params / 1e6:.2f}M",
            f"{r.active_params / 1e6:.2f}M",
            f"{r.us_per_token:.2f}",
            f"{r.us_per_token / base:.2f}x",
        )
    return table


@moe_group.command()
@click.option("--hidden", default=256, show_default=True, help="Hidden size H.")
@click.option("--ffn", default=512, show_default=True, help="Width of each expert.")
@click.option("--experts", default="4,8,16,32", show_default=True, help="Values of E.")
@click.option("--top-k", "top_k", default="1,2,4", show_default=True, help="Values of K.")
@click.option("--tokens", default=1024, show_default=True, help="Tokens per batch.")
@click.option("--repeats", default=3, show_default=True, help="Timed calls per point.")
@click.option("--threads", default=1, show_default=True, help="torch threads.")
@click.option("--plot", "plot_path", default=None, help="Write a PNG of the sweep and load.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def bench(
    hidden: int,
    ffn: int,
    experts: str,
    top_k: str,
    tokens: int,
    repeats: int,
    threads: int,
    plot_path: str | None,
    as_json: bool,
) -> None:
    """Time per token against total and active parameters over a sweep of E and K."""
    set_threads(threads)
    es, ks = _ints(experts, "--experts"), _ints(top_k, "--top-k")
    rows = sweep(hidden, ffn, es, ks, tokens, repeats)
    cfg = MoEConfig(hidden_size=hidden, expert_intermediate=ffn, num_experts=max(es), top_k=min(ks))
    stats = load_of_batch(cfg, tokens)
    if plot_path:
        plot(rows, stats, plot_path)
    if as_json:
        echo_json(report(rows, stats))
        return
    console = Console()
    console.print(_table(rows))
    console.print(
        f"load of {tokens} tokens over E={cfg.num_experts}, K={cfg.top_k} (random router): "
        f"entropy {stats.entropy:.3f} nats, balance {stats.balance:.3f}"
    )
    click.echo("\n".join(_hist(stats)))
    if plot_path:
        click.echo(f"plot written to {plot_path}", err=True)


@moe_group.command("ep")
@click.option("--world-size", default=2, show_default=True, help="Processes (gloo, loopback).")
@click.option("--experts", default=8, show_default=True, help="Number of experts E.")
@click.option("--top-k", "top_k", default=2, show_default=True, help="Experts per token K.")
@click.option("--hidden", default=64, show_default=True, help="Hidden size H.")
@click.option("--ffn", default=128, show_default=True, help="Width of each expert.")
@click.option("--tokens", default=256, show_default=True, help="Tokens per rank.")
@click.option("--router", type=click.Choice(ROUTERS), default="mixtral", show_default=True)
@click.option("--balanced", is_flag=True, help="Route token t to experts t..t+K-1 (even load).")
@click.option("--repeats", default=3, show_default=True, help="Timed calls per rank.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def ep_cmd(
    world_size: int,
    experts: int,
    top_k: int,
    hidden: int,
    ffn: int,
    tokens: int,
    router: str,
    balanced: bool,
    repeats: int,
    as_json: bool,
) -> None:
    """Run the layer expert-parallel and compare with one process and with the planner."""
    from ponder.moe.epcheck import compare, summary

    set_threads(1)
    cfg = MoEConfig(
        hidden_size=hidden,
        expert_intermediate=ffn,
        num_experts=experts,
        top_k=top_k,
        router=router,  # type: ignore[arg-type]
    )
    result = summary(compare(cfg, world_size, tokens, balanced=balanced, repeats=repeats), cfg)
    if as_json:
        echo_json(result)
        return
    click.echo(
        f"world size {world_size}: max |EP - single process| = {result['max_abs_diff']:.3g}; "
        f"planner estimate {result['planner_bytes']:,.0f} B per rank (dispatch + combine)"
    )
    for r in result["ranks"]:
        click.echo(
            f"rank {r['rank']}: sent {r['payload_bytes']:,} B payload "
            f"({r['payload_bytes'] / result['planner_bytes']:.3f} of the estimate) + "
            f"{r['meta_bytes']} B counts; {r['ms_per_layer']:.2f} ms per layer"
        )
