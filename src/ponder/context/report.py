"""Turn stored sweep records into tables (plain data) and plots."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.context import results
from ponder.context.plots import Series, heatmap, positions
from ponder.errors import DataError


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class Report:
    tables: list[Table] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)


def _pct(cell: results.Cell | None) -> str:
    return "-" if cell is None else f"{100 * cell.mean:.0f} (n={cell.n})"


def _slug(task: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", task.lower()).strip("-")


def _niah(records: Sequence[dict[str, Any]], task: str, out: Path, single: bool) -> Report:
    cells = results.grid(records, task)
    if not cells:
        return Report()
    lengths = sorted({x for x, _ in cells})
    depths = sorted({d for _, d in cells})
    rows = [[f"{100 * d:.0f}%", *(_pct(cells.get((x, d))) for x in lengths)] for d in depths]
    table = Table(f"{task}: accuracy % by depth x length", ["depth", *map(str, lengths)], rows)
    name = "heatmap.png" if single else f"heatmap-{_slug(task)}.png"
    return Report([table], [heatmap(cells, out / name, title=task)])


def _positional(records: Sequence[dict[str, Any]], out: Path) -> Report:
    names = [t for t in results.tasks(records) if t == "kv" or t.startswith("docs:order=")]
    if not names:
        return Report()
    closed = results.overall(records, "docs:closed-book")
    oracle = results.overall(records, "docs:oracle")
    series, rows = [], []
    for task in names:
        points = results.curve(records, task)
        items = results.items_of(records, task) or max(points, default=1)
        reference = closed.mean if closed and task.startswith("docs:") else None
        label = task.replace("docs:order=", "docs, order ")
        series.append(Series(label, {k: c.mean for k, c in points.items()}, items, reference))
        reference = None
        for position, cell in points.items():
            rows.append([task, str(position), _pct(cell)])
    if any(t.startswith("docs:") for t in names):
        liu = results.LIU_2023
        series.append(Series(liu.label, liu.points, liu.items, liu.closed_book))
    tables = [
        Table(
            "accuracy % by position of the relevant item", ["task", "position", "accuracy %"], rows
        )
    ]
    tables += _by_rank(records, names)
    if closed or oracle:
        tables.append(
            Table("references", ["closed-book", "oracle"], [[_pct(closed), _pct(oracle)]])
        )
    return Report(tables, [positions(series, out / "positions.png")])


def _by_rank(records: Sequence[dict[str, Any]], names: list[str]) -> list[Table]:
    """Orders side by side by the answer's retrieval rank: what reordering buys."""
    orders = [t for t in names if t.startswith("docs:order=")]
    if len(orders) < 2:
        return []
    curves = {t: results.curve(records, t, by="rank") for t in orders}
    ranks = sorted({r for c in curves.values() for r in c})
    rows = [[str(r), *(_pct(curves[t].get(r)) for t in orders)] for r in ranks]
    heads = [t.removeprefix("docs:order=") for t in orders]
    tables = [
        Table("accuracy % by the answer's retrieval rank, per layout", ["rank", *heads], rows)
    ]
    found = [results.recovery(records, h) for h in heads if h != "natural"]
    rows = [
        [
            r.order,
            str(r.rank),
            f"{100 * r.loss:.0f}",
            f"{100 * r.gain:+.0f}",
            "-" if r.fraction is None else f"{100 * r.fraction:.0f}%",
        ]
        for r in found
        if r
    ]
    if rows:
        heads = [
            "layout",
            "middle rank",
            "natural loss vs rank 1 (pts)",
            "gain (pts)",
            "loss recovered",
        ]
        tables.append(Table("what reordering recovers in the middle", heads, rows))
    return tables


def write_report(records: Sequence[dict[str, Any]], out: str | Path) -> Report:
    """Tables and plots (heatmap.png, positions.png) for every task in ``records``."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    niah = [t for t in results.tasks(records) if t.startswith("niah:")]
    report = Report()
    for task in niah:
        part = _niah(records, task, directory, single=len(niah) == 1)
        report.tables += part.tables
        report.plots += part.plots
    part = _positional(records, directory)
    report.tables += part.tables
    report.plots += part.plots
    if not report.tables:
        raise DataError(f"{directory} holds no finished context-sweep records")
    return report
