"""Rich renderables for the planner's results (the CLI prints them; JSON uses ``to_dict``)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table

from ponder.deploy.capacity import MemoryPlan
from ponder.deploy.rag import RagAdvice
from ponder.deploy.serve import ServePlan
from ponder.deploy.size import SizeAdvice
from ponder.deploy.units import fmt_bytes, fmt_count


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for key, value in rows:
        table.add_row(key, value)
    return table


def _notes(items: list[str], title: str) -> list[RenderableType]:
    return [Panel("\n".join(f"- {x}" for x in items), title=title)] if items else []


def render_params(s: dict[str, Any]) -> RenderableType:
    rows = [("attention type", s["attention"]), ("layers", str(s["layers"]))]
    rows += [(k, fmt_count(v)) for k, v in s["components"].items() if v]
    rows += [("total", fmt_count(s["total_params"])), ("active", fmt_count(s["active_params"]))]
    rows.append(("active without input embedding", fmt_count(s["active_matmul_params"])))
    if s["mtp_params_not_loaded"]:
        rows.append(("MTP module (not in total)", fmt_count(s["mtp_params_not_loaded"])))
    rows += [(f"weights {k}", fmt_bytes(v)) for k, v in s["weight_bytes"].items()]
    notes = list(s["assumptions"])
    if s["unknown_fields"]:
        notes.append("unknown fields, not used: " + ", ".join(s["unknown_fields"]))
    return Group(_kv_table(f"Parameters of {s['model']}", rows), *_notes(notes, "Notes"))


def render_kv(s: dict[str, Any]) -> RenderableType:
    rows = [
        ("attention type", s["attention"]),
        ("elements / token / layer", f"{s['elements_per_token_per_layer']:,}"),
        ("bytes / token", f"{s['bytes_per_token']:,} ({fmt_bytes(s['bytes_per_token'])})"),
        (f"one request of {s['context']:,} tokens", fmt_bytes(s["bytes_per_request"])),
        (
            "GQA/MLA-blind calculator says",
            f"{fmt_bytes(s['naive_bytes_per_token'])} / token ({s['naive_overstatement']}x)",
        ),
    ]
    if s["sliding_window"]:
        window = f"{s['sliding_layers']} (window {s['sliding_window']:,})"
        rows.append(("sliding-window layers", window))
    return _kv_table(f"KV cache of {s['model']} ({s['kv_dtype']})", rows)


def render_memory(plan: MemoryPlan) -> RenderableType:
    table = Table(title=f"{plan.model} on {plan.gpu}: {plan.layout.describe()}, per GPU")
    for col in ("stage", "layers", "weights", "activations", "overhead", "KV pool", "KV tokens"):
        table.add_column(col, justify="right")
    for s in plan.stages:
        table.add_row(
            str(s.stage),
            str(s.layers),
            fmt_bytes(s.weights),
            fmt_bytes(s.activations),
            fmt_bytes(s.overhead),
            fmt_bytes(max(0, s.kv_pool)),
            f"{s.kv_tokens:,}",
        )
    summary = (
        f"context {plan.context:,}: {plan.concurrency:.1f} requests per replica, "
        f"{plan.total_concurrency:.1f} in all (budget {fmt_bytes(plan.stages[0].budget)} "
        f"at gpu_memory_utilization={plan.gpu_memory_utilization:g})"
    )
    return Group(table, summary, *_notes(plan.problems(), "Does not fit"))


def render_serve(plan: ServePlan) -> RenderableType:
    alts = Table(title="Next best layouts")
    alts.add_column("layout")
    alts.add_column("requests at full context", justify="right")
    alts.add_column("why not chosen")
    for alt in plan.to_dict()["alternatives"]:
        alts.add_row(alt["layout"], f"{alt['total_concurrency']:.1f}", alt["why_not"])
    return Group(
        render_memory(plan.memory),
        Panel(plan.command, title="Command"),
        *_notes(plan.reasons, "Why"),
        *([alts] if plan.alternatives else []),
    )


def render_rag(advice: RagAdvice) -> RenderableType:
    table = Table(title=f"Decision: {advice.decision}")
    for col in ("option", "prompt tokens", "KV / query", "fits window", "cost / query"):
        table.add_column(col, justify="right")
    for o in advice.options:
        cost = "-" if o.cost_usd is None else f"${o.cost_usd:.4f}"
        table.add_row(
            o.name,
            f"{o.prompt_tokens:,}",
            fmt_bytes(o.kv_bytes),
            "yes" if o.fits_context else "no",
            cost,
        )
    return Group(
        table,
        *_notes(advice.reasoning, "Reasoning"),
        Panel(advice.placement_advice, title="Placement"),
    )


def render_size(advice: SizeAdvice) -> RenderableType:
    table = Table(title=f"Recommended: {advice.recommended or 'none fits'}")
    for col in ("model", "params", "weights", "KV", "needed", "fits"):
        table.add_column(col, justify="right")
    for c in advice.candidates:
        table.add_row(
            c.name,
            fmt_count(c.total_params),
            fmt_bytes(c.weight_bytes),
            fmt_bytes(c.kv_bytes),
            fmt_bytes(c.needed_bytes),
            "yes" if c.fits else "no",
        )
    return Group(table, *_notes(advice.reasoning, "Reasoning"))
