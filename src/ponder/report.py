"""``ponder eval report``: Markdown and HTML with the plot, the tables and the headline.

It sits above ``ponder.eval`` (stored runs, replay) and ``ponder.routing`` (the
cross-validated router against the fixed strategies), which it joins; ``ponder.routing``
reads stored pools through ``ponder.eval``, so neither package imports the other back.

Sampling-mode records are replayed (every fixed strategy, each stopping rule, best-of-N
and the cross-validated router); records of strategies run live are summarised as they
were measured.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.budgets import TRUNCATION_WARN
from ponder.errors import DataError
from ponder.eval.live import live_points
from ponder.eval.pools import ItemConflict, Pools, load_pools
from ponder.eval.replay import Point, frontier_accuracy, group_of, pareto
from ponder.eval.store import Record, read_records
from ponder.routing.compare import (
    Headline,
    best_point,
    direct_point,
    fixed_points,
    headline,
    router_point,
)


@dataclass
class Report:
    fixed: list[Point]
    router: Point | None = None
    live: list[Point] = field(default_factory=list)
    headline: Headline | None = None
    tiers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    done: int = 0  # items with a finished record
    failed: int = 0  # items whose latest record is an error
    created: str = ""
    unit: str = "dollars"  # what the frontier and the router's budget count: or "tokens"


def _about(report: Report, records: Sequence[dict[str, Any]]) -> Report:
    """Fill in what the report is about: models, finished and failed items, the date."""
    typed = [Record.from_dict(r) for r in records]
    report.models = sorted({r.model_label for r in typed})
    report.failed = sum(1 for r in typed if r.error)
    report.done = len(records) - report.failed
    report.created = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return report


def cost_unit(points: Sequence[Point]) -> str:
    """``dollars``, or ``tokens`` when no point costs anything (no price and no parameter
    count for any model: a frontier over zero costs would be one point)."""
    return "dollars" if any(p.dollars > 0 for p in points) else "tokens"


def zero_cost_notes(report: Report) -> list[str]:
    if report.unit == "dollars":
        return []
    models = ", ".join(report.models) or "the run's models"
    return [
        f"costs are all zero: no price and no parameter count for {models} (give a price "
        "in $PONDER_PRICES, or run a catalog model or a .gguf file); the frontier, the "
        "router's budget and the headline count tokens instead"
    ]


def cost_ratio(best: Point, direct: Point) -> float:
    """best / direct in dollars; in tokens when the run has no prices (an unpriced API)."""
    if direct.dollars > 0:
        return best.dollars / direct.dollars
    return best.tokens / direct.tokens if direct.tokens > 0 else 1.0


def build_report(
    sources: str | Path | Sequence[str | Path],
    budget: float | None = None,
    reps: int = 100,
    folds: int = 4,
) -> Report:
    """Replay the records of one or more runs (dirs or .jsonl[.gz] files) into a Report."""
    paths = [sources] if isinstance(sources, (str, Path)) else list(sources)
    records = [r for path in paths for r in read_records(path)]
    run_dir = ", ".join(map(str, paths))
    live = live_points(records)
    why = "no sampling-mode records (`-s sample:n=16`)"
    try:
        pools: Pools | None = load_pools(records)
    except ItemConflict:
        raise  # runs on other data under the same ids: nothing to report on together
    except DataError as exc:
        pools = None
        if any(str(r.get("strategy", "")).startswith("sample") for r in records):
            why = str(exc)  # sampling records that cannot be replayed: say why
    if pools is None:
        if not live:
            raise DataError(f"{run_dir} holds no finished items to report on ({why})")
        note = f"{why}: no replay and no router point"
        report = _about(Report(fixed=live, unit=cost_unit(live)), records)
        report.notes += [note, *zero_cost_notes(report), *truncation_notes(live)]
        return report
    fixed = fixed_points(pools, reps=reps)
    tiers = [t.model for t in pools.tiers]
    report = _about(Report(fixed, live=live, tiers=tiers, unit=cost_unit([*fixed, *live])), records)
    report.notes += zero_cost_notes(report)
    report.notes += truncation_notes([*fixed, *live]) + shortfall_notes(fixed)
    for item_id in pools.items:
        group = group_of(pools, item_id)
        report.counts[group] = report.counts.get(group, 0) + 1
    if len(pools.items) >= 2 * folds:
        direct = direct_point(fixed, pools)
        best = best_point(fixed, report.unit)
        target = budget or max(0.4 * cost_ratio(best, direct), 1.0)
        report.router = router_point(pools, target, folds=folds, reps=reps, unit=report.unit)
        report.headline = headline(report.router, fixed, report.unit)
    else:
        report.notes.append(f"only {len(pools.items)} items: too few to cross-validate a router")
    return report


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def summary_rows(report: Report) -> list[list[str]]:
    rows = []
    points = [*report.fixed, *report.live, *([report.router] if report.router else [])]
    front = {p.name for p in pareto(report.fixed, report.unit)}
    for p in points:
        rows.append(
            [
                p.name,
                _pct(p.accuracy),
                f"{_pct(p.low)}-{_pct(p.high)}",
                f"{p.tokens:.0f}",
                f"{1000 * p.dollars:.4f}",
                f"{p.samples:.1f}",
                _pct(p.truncated),
                "yes" if p.name in front else "",
            ]
        )
    return rows


def difficulty_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    points = [*report.fixed, *report.live, *([report.router] if report.router else [])]
    groups = sorted(
        {g for p in points for g in p.by_group},
        key=lambda g: (g.split(":")[0], int(g.split(":")[1]) if g.split(":")[1].isdigit() else 0),
    )
    rows = [
        [p.name, *(_pct(p.by_group[g]) if g in p.by_group else "" for g in groups)] for p in points
    ]
    if report.counts:
        rows.insert(0, ["(items)", *(str(report.counts.get(g, "")) for g in groups)])
    return groups, rows


SUMMARY_HEAD = [
    "strategy",
    "accuracy %",
    "95% CI",
    "tokens/q",
    "$/1k q",
    "samples/q",
    "cut at max_tokens %",
    "frontier",
]


def truncation_notes(points: Sequence[Point]) -> list[str]:
    """A warning per strategy and model whose samples often stop at max_tokens."""
    return [
        f"{p.name}: {_pct(p.truncated)}% of samples stopped at max_tokens (those without a "
        "final-answer marker abstain); raise max_tokens for this model"
        for p in points
        if p.truncated > TRUNCATION_WARN
    ]


def shortfall_notes(points: Sequence[Point]) -> list[str]:
    """A warning per strategy that asked for more samples than the pools stored."""
    return [
        f"{p.name}: asked for {p.missing:.1f} samples per item more than were stored; "
        "its accuracy is that of the smaller pool: sample more in the run"
        for p in points
        if p.missing > 0
    ]


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def router_lines(report: Report) -> list[str]:
    if report.router is None:
        return []
    r, extra = report.router, report.router.extra
    unit = report.unit
    at = frontier_accuracy(pareto(report.fixed, unit), getattr(r, unit), unit)
    on_front = r.accuracy >= at - 1e-9
    return [
        f"Router: cross-validated over {extra['folds']} folds, "
        f"budget {extra['budget']:.2f}x direct in {unit}; "
        f"{'on or above' if on_front else 'below'} the fixed strategies' Pareto frontier.",
        "Plans chosen: " + ", ".join(f"{k} ({v})" for k, v in sorted(extra["plans"].items())),
    ]


def about_line(report: Report) -> str:
    failed = f", {report.failed} failed" if report.failed else ""
    models = ", ".join(report.models) or "-"
    return f"Model(s): {models}. Items: {report.done} done{failed}. Made {report.created}."


@dataclass(frozen=True)
class _Parts:
    title: str
    headline: str
    about: str
    tiers: str
    png: str
    summary: list[list[str]]
    groups: list[str]
    difficulty: list[list[str]]
    router: list[str]
    notes: list[str]


def _markdown(p: _Parts) -> str:
    return (
        "\n\n".join(
            [
                f"# {p.title}",
                f"**{p.headline}**",
                p.about,
                *([f"Tiers: {p.tiers}"] if p.tiers else []),
                f"![accuracy vs cost]({p.png})",
                "## Strategies",
                _md_table(SUMMARY_HEAD, p.summary),
                "## Accuracy (%) per suite:level",
                _md_table(["strategy", *p.groups], p.difficulty),
                *(["## Router", "\n".join(f"- {x}" for x in p.router)] if p.router else []),
                *(["## Notes", "\n".join(f"- {x}" for x in p.notes)] if p.notes else []),
            ]
        )
        + "\n"
    )


def _html(p: _Parts) -> str:
    esc = html.escape
    return (
        f"<!doctype html><meta charset='utf-8'><title>{esc(p.title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
        "</style>"
        f"<h1>{esc(p.title)}</h1><p><b>{esc(p.headline)}</b></p><p>{esc(p.about)}</p>"
        + (f"<p>Tiers: {esc(p.tiers)}</p>" if p.tiers else "")
        + f"<img src='{esc(p.png)}' width='100%'>"
        f"<h2>Strategies</h2>{_html_table(SUMMARY_HEAD, p.summary)}"
        f"<h2>Accuracy (%) per suite:level</h2>{_html_table(['strategy', *p.groups], p.difficulty)}"
        + _html_list("Router", p.router)
        + _html_list("Notes", p.notes)
    )


def _html_list(title: str, lines: Sequence[str]) -> str:
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(x)}</li>" for x in lines)
    return f"<h2>{html.escape(title)}</h2><ul>{items}</ul>"


def write_report(
    report: Report, out_dir: str | Path, title: str = "ponder eval report"
) -> dict[str, Path]:
    """Write report.md, report.html, report.json and accuracy_vs_cost.png into ``out_dir``."""
    from ponder.eval.plots import plot_accuracy_vs_cost

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = plot_accuracy_vs_cost(
        report.fixed, report.router, out / "accuracy_vs_cost.png", title, live=report.live
    )
    head_line = report.headline.sentence if report.headline else "No router point (see Notes)."
    groups, difficulty = difficulty_rows(report)
    parts = _Parts(
        title,
        head_line,
        about_line(report),
        ", ".join(f"{i}: {t}" for i, t in enumerate(report.tiers)),
        png.name,
        summary_rows(report),
        groups,
        difficulty,
        router_lines(report),
        report.notes,
    )
    paths = {
        "md": out / "report.md",
        "html": out / "report.html",
        "png": png,
        "json": out / "report.json",
    }
    paths["md"].write_text(_markdown(parts), encoding="utf-8")
    paths["html"].write_text(_html(parts), encoding="utf-8")
    data = {
        "fixed": [p.to_dict() for p in report.fixed],
        "live": [p.to_dict() for p in report.live],
        "router": report.router.to_dict() if report.router else None,
        "headline": head_line,
        "models": report.models,
        "items": {"done": report.done, "failed": report.failed},
        "created": report.created,
        "notes": report.notes,
        "cost_unit": report.unit,
    }
    paths["json"].write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return paths
