"""Summaries of stored sweep records: the NIAH grid and position curves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ponder.eval.store import Record

# Liu et al. 2023, "Lost in the Middle" (arXiv:2307.03172), multi-document QA with
# 20 documents, GPT-3.5-Turbo: accuracy by position of the answer document, and
# closed-book. The figures quoted in ponder's issue 12.


@dataclass(frozen=True)
class Reference:
    label: str
    items: int
    points: dict[int, float]
    closed_book: float


LIU_2023 = Reference(
    label="Liu et al. 2023, GPT-3.5-Turbo, 20 docs",
    items=20,
    points={1: 0.758, 10: 0.538, 20: 0.632},
    closed_book=0.561,
)


@dataclass(frozen=True)
class Cell:
    mean: float
    n: int


def _finished(records: Iterable[dict[str, Any]], task: str | None) -> list[Record]:
    return [
        r
        for r in map(Record.from_dict, records)
        if not r.error and r.score is not None and (task is None or r.strategy == task)
    ]


def _mean(groups: dict[Any, list[float]]) -> dict[Any, Cell]:
    return {k: Cell(sum(v) / len(v), len(v)) for k, v in sorted(groups.items())}


def tasks(records: Iterable[dict[str, Any]]) -> list[str]:
    """The tasks present in records, in first-seen order."""
    return list(dict.fromkeys(r.strategy for r in map(Record.from_dict, records)))


def grid(
    records: Iterable[dict[str, Any]], task: str | None = None
) -> dict[tuple[int, float], Cell]:
    """NIAH: mean score per (length, depth)."""
    groups: dict[tuple[int, float], list[float]] = defaultdict(list)
    for r in _finished(records, task):
        item = r.item
        if item.get("depth") is not None:
            groups[(int(item["length"]), float(item["depth"]))].append(float(r.score or 0.0))
    return _mean(groups)


def curve(
    records: Iterable[dict[str, Any]], task: str | None = None, by: str = "position"
) -> dict[int, Cell]:
    """KV and docs: mean score per position (or per ``rank``) of the relevant item."""
    groups: dict[int, list[float]] = defaultdict(list)
    for r in _finished(records, task):
        value = r.item.get(by)
        if value is not None:
            groups[int(value)].append(float(r.score or 0.0))
    return _mean(groups)


def overall(records: Iterable[dict[str, Any]], task: str) -> Cell | None:
    scores = [float(r.score or 0.0) for r in _finished(records, task)]
    return Cell(sum(scores) / len(scores), len(scores)) if scores else None


def items_of(records: Iterable[dict[str, Any]], task: str) -> int | None:
    """The number of documents (or pairs) of a task's records, if they agree."""
    counts = {r.item.get("items") for r in _finished(records, task)}
    return counts.pop() if len(counts) == 1 else None


@dataclass(frozen=True)
class Recovery:
    """What a layout buys at the middle rank: ``gain`` over natural order, as a
    ``fraction`` of the natural order's loss from rank 1 to the middle rank."""

    order: str
    rank: int
    first: float
    natural: float
    reordered: float

    @property
    def loss(self) -> float:
        return self.first - self.natural

    @property
    def gain(self) -> float:
        return self.reordered - self.natural

    @property
    def fraction(self) -> float | None:
        return self.gain / self.loss if self.loss > 0 else None


def recovery(records: Iterable[dict[str, Any]], order: str) -> Recovery | None:
    """Natural order vs ``order`` at the middle of the ranks both tested."""
    rows = list(records)
    natural = curve(rows, "docs:order=natural", by="rank")
    other = curve(rows, f"docs:order={order}", by="rank")
    ranks = sorted(set(natural) & set(other))
    if 1 not in natural or len(ranks) < 3:
        return None
    middle = ranks[len(ranks) // 2]
    return Recovery(order, middle, natural[1].mean, natural[middle].mean, other[middle].mean)
