"""``ponder plan models`` and ``ponder plan gpus``: what the planner knows by name."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ponder.cli.common import echo_json


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models_cmd(as_json: bool) -> None:
    """List the catalog's models (any Hugging Face config.json works too)."""
    from ponder.deploy.catalog import catalog
    from ponder.deploy.units import fmt_count

    rows: list[dict[str, Any]] = []
    for entry in catalog():
        cfg = entry.config
        rows.append(
            {
                "name": entry.name,
                "hf_id": entry.hf_id,
                "total_params": entry.total.value,
                "active_params": entry.active.value if entry.active else entry.total.value,
                "max_context": cfg.get("max_position_embeddings"),
                "aliases": list(entry.aliases),
            }
        )
    if as_json:
        echo_json(rows)
        return
    table = Table("name", "Hugging Face id", "params", "active", "max context", title="models")
    for r in rows:
        context = f"{r['max_context']:,}" if r["max_context"] else "-"
        total, active = fmt_count(r["total_params"]), fmt_count(r["active_params"])
        table.add_row(r["name"], r["hf_id"], total, active, context)
    Console().print(table)


@click.command("gpus")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def gpus_cmd(as_json: bool) -> None:
    """List the GPUs (and CPU targets) the planner knows, with memory and bandwidth."""
    from ponder.deploy.gpus import GPUS

    rows: list[dict[str, Any]] = [
        {
            "name": g.name,
            "kind": g.kind,
            "memory_gib": round(g.memory_mib / 1024, 1),
            "bandwidth_gbs": g.bandwidth_gbs,
            "bf16_tflops": g.bf16_tflops,
            "fp8": g.fp8,
            "gpus_per_node": g.gpus_per_node,
            "aliases": list(g.aliases),
        }
        for g in GPUS
    ]
    if as_json:
        echo_json(rows)
        return
    table = Table("name", "kind", "memory GiB", "GB/s", "bf16 TFLOPS", "fp8", "aliases")
    for r in rows:
        table.add_row(
            r["name"],
            r["kind"],
            f"{r['memory_gib']:g}",
            f"{r['bandwidth_gbs']:g}",
            f"{r['bf16_tflops']:g}",
            "yes" if r["fp8"] else "",
            ", ".join(r["aliases"]),
        )
    Console().print(table)
