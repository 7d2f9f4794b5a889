"""Turn stored sweep records into tables (plain data) and plots."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.errors import DataError
from ponder.eval.context_sweeps import results
from ponder.eval.context_sweeps.plots import Series, heatmap, positions
from ponder.eval.store import Record


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


def _short(model: str) -> str:
    """``embedded:smollm2-135m?threads=1`` -> ``smollm2-135m``."""
    name = model.split("?", 1)[0]
    return name.rsplit("#", 1)[-1] if "#" in name else name.split(":", 1)[-1]


def _niah(records: Sequence[dict[str, Any]], model: str, task: str, out: Path, name: str) -> Report:
    cells = results.grid(records, task)
    if not cells:
        return Report()
    lengths = sorted({x for x, _ in cells})
    depths = sorted({d for _, d in cells})
    rows = [[f"{100 * d:.0f}%", *(_pct(cells.get((x, d))) for x in lengths)] for d in depths]
    title = f"{_short(model)}, {task}"
    table = Table(f"{title}: accuracy % by depth x length", ["depth", *map(str, lengths)], rows)
    return Report([table], [heatmap(cells, out / name, title=title)])


def _positional(records: Sequence[dict[str, Any]], spec: str) -> tuple[list[Table], list[Series]]:
    """Tables and plot lines of one model's KV and docs records."""
    names = [t for t in results.tasks(records) if t == "kv" or t.startswith("docs:order=")]
    if not names:
        return [], []
    model = _short(spec)
    closed = results.overall(records, "docs:closed-book")
    oracle = results.overall(records, "docs:oracle")
    series, rows = [], []
    for task in names:
        points = results.curve(records, task)
        items = results.items_of(records, task) or max(points, default=1)
        first_docs = task == next(t for t in names if t.startswith(("docs:", "kv")))
        reference = closed.mean if closed and first_docs else None
        label = f"{model}, {items} {task.replace('docs:order=', 'docs, order ')}"
        series.append(Series(label, {k: c.mean for k, c in points.items()}, items, reference))
        rows += [[task, str(p), _pct(cell)] for p, cell in points.items()]
    heads = ["task", "position", "accuracy %"]
    tables = [Table(f"{model}: accuracy % by position of the relevant item", heads, rows)]
    tables += _by_rank(records, names)
    if closed or oracle:
        tables.append(
            Table(f"{model}: references", ["closed-book", "oracle"], [[_pct(closed), _pct(oracle)]])
        )
    return tables, series


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
    """Tables and plots for every model and task in ``records``: a heatmap per NIAH
    task (``heatmap.png`` when there is one), and ``positions.png`` with every KV and
    docs curve, Liu et al.'s beside the docs ones."""
    directory = Path(out)
    directory.mkdir(parents=True, exist_ok=True)
    by_model: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_model.setdefault(Record.from_dict(record).model, []).append(record)
    niah = [
        (m, t) for m, rs in by_model.items() for t in results.tasks(rs) if t.startswith("niah:")
    ]
    report, series = Report(), []
    for model, task in niah:
        name = "heatmap.png" if len(niah) == 1 else f"heatmap-{_slug(_short(model) + task)}.png"
        part = _niah(by_model[model], model, task, directory, name)
        report.tables += part.tables
        report.plots += part.plots
    for model, rows in by_model.items():
        tables, lines = _positional(rows, model)
        report.tables += tables
        series += lines
    if series:
        if any(" docs, " in s.label for s in series):
            liu = results.LIU_2023
            series.append(Series(liu.label, liu.points, liu.items, liu.closed_book))
        report.plots.append(positions(series, directory / "positions.png"))
    if not report.tables:
        raise DataError(f"{directory} holds no finished context-sweep records")
    return report
