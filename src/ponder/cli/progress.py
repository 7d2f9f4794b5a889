"""Progress for long commands, on stderr: a rich bar with a total and an ETA in a
terminal, a plain line every few seconds elsewhere (CI logs, pipes, nohup)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ponder.cli.common import stderr

if TYPE_CHECKING:
    from ponder.distill.train import StepHook

PLAIN_EVERY_S = 10.0


class Tally:
    """What an eval run has done so far; the CLI prints it as its summary."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.total: int | None = None
        self.ok = 0
        self.failed = 0
        self.start = time.perf_counter()

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def eta(self) -> str:
        elapsed = time.perf_counter() - self.start
        if not self.done or self.total is None:
            return "?"
        return f"{elapsed / self.done * (self.total - self.done):.0f} s"

    def line(self) -> str:
        total = "?" if self.total is None else self.total
        elapsed = time.perf_counter() - self.start
        return (
            f"{self.name}: {self.done}/{total} done, {self.failed} failed, "
            f"{elapsed:.0f} s elapsed, ETA {self.eta()}"
        )


Hooks = tuple[Callable[[int], None], Callable[[int, int, dict[str, Any]], None]]


@contextmanager
def eval_progress(tally: Tally) -> Iterator[Hooks]:
    """(started, progress) callbacks for ``run_eval`` that keep ``tally`` and show it."""
    if stderr.is_terminal:
        with _bar(tally) as hooks:
            yield hooks
        return
    last = [0.0]

    def started(total: int) -> None:
        tally.total, tally.start = total, time.perf_counter()
        click.echo(tally.line(), err=True)
        last[0] = time.perf_counter()

    def progress(done: int, total: int, record: dict[str, Any]) -> None:
        _count(tally, record)
        if done == total or time.perf_counter() - last[0] >= PLAIN_EVERY_S:
            click.echo(tally.line(), err=True)
            last[0] = time.perf_counter()

    yield started, progress


def _count(tally: Tally, line: dict[str, Any]) -> None:
    from ponder.eval.store import Record

    if Record.from_dict(line).error:
        tally.failed += 1
    else:
        tally.ok += 1


@contextmanager
def _bar(tally: Tally) -> Iterator[Hooks]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ok {task.fields[ok]} failed {task.fields[failed]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr) as bar:
        task = bar.add_task(tally.name, total=None, ok=0, failed=0)

        def started(total: int) -> None:
            tally.total, tally.start = total, time.perf_counter()
            bar.update(task, total=total)

        def progress(done: int, total: int, record: dict[str, Any]) -> None:
            _count(tally, record)
            bar.update(task, completed=done, total=total, ok=tally.ok, failed=tally.failed)

        yield started, progress


@contextmanager
def step_progress(name: str, metric: str) -> Iterator[StepHook]:
    """A hook ``(step, total, value)`` for a loop of numbered steps with one figure to
    watch (a training loss): a bar in a terminal, a plain line every few seconds elsewhere."""
    if not stderr.is_terminal:
        last = [0.0]

        def plain(step: int, total: int, value: float) -> None:
            if step == total or time.perf_counter() - last[0] >= PLAIN_EVERY_S:
                click.echo(f"{name}: step {step}/{total}, {metric} {value:.3f}", err=True)
                last[0] = time.perf_counter()

        yield plain
        return
    columns = (
        TextColumn(name), BarColumn(), MofNCompleteColumn(),
        TextColumn(f"{metric} {{task.fields[value]}}"), TimeElapsedColumn(), TimeRemainingColumn(),
    )  # fmt: skip
    with Progress(*columns, console=stderr) as bar:
        task = bar.add_task(name, total=None, value="-")

        def update(step: int, total: int, value: float) -> None:
            bar.update(task, completed=step, total=total, value=f"{value:.3f}")

        yield update
