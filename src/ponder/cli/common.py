"""Helpers the commands share: progress on stderr, model pre-fetch, JSON output."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn
from rich.status import Status

from ponder import models
from ponder.backends import load_backend, parse_spec
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.strategies import Strategy
from ponder.strategies.tiers import LoadsTiers, tier_specs, uncached_model

Command = TypeVar("Command", bound=Callable[..., Any])

if TYPE_CHECKING:
    from ponder.eval.runner import RunSpec

stderr = Console(stderr=True)


PLAIN_EVERY_S = 10.0


@contextmanager
def download_progress() -> Iterator[models.Progress]:
    """A rich progress bar on stderr, as a ``models.Progress`` callback; outside a
    terminal a plain line every few seconds instead."""
    if not stderr.is_terminal:
        yield _plain_download_progress()
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
    )
    with Progress(*columns, console=stderr, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def report(description: str, done: int, total: int) -> None:
            if description not in tasks:
                tasks[description] = bar.add_task(description, total=total or None)
            bar.update(tasks[description], completed=done, total=total or None)

        yield report


def _plain_download_progress() -> models.Progress:
    last: dict[str, float] = {}

    def report(description: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = bool(total) and done >= total
        if not finished and now - last.get(description, -PLAIN_EVERY_S) < PLAIN_EVERY_S:
            return
        last[description] = now
        if not done and not total:
            click.echo(f"{description}...", err=True)
            return
        size = f"{done / 2**20:.1f}" + (f" of {total / 2**20:.1f}" if total else "")
        click.echo(f"{description}: {size} MiB", err=True)

    return report


def ensure_model(spec: str) -> None:
    """Pull a registry model named by an embedded spec, with a progress bar, if missing."""
    name = uncached_model(spec)
    if name is None:
        return
    stderr.print(f"fetching {name} (first use)...")
    with download_progress() as report:
        models.pull(name, progress=report)


def fetching_tiers(strategy: Strategy, spinner: Status | None = None) -> Strategy:
    """``strategy``, with ``auto``'s tiers (or a judge tier, ``judge=``) each fetched (a
    registry model not downloaded yet, with a progress bar) and loaded when first used;
    ``spinner`` is stopped while a download shows its progress."""
    if not isinstance(strategy, LoadsTiers):
        return strategy

    def load(spec: str) -> Backend:
        if spinner is not None and uncached_model(spec):
            spinner.stop()
            try:
                ensure_model(spec)
            finally:
                spinner.start()
        else:
            ensure_model(spec)
        return load_backend(spec)

    return strategy.with_loader(load)


def ensure_tiers(specs: Iterable[RunSpec]) -> None:
    """Pull, with progress, the local tiers an ``auto`` spec names (``tiers=ladder``),
    and any strategy's judge (``judge=``), before a run over many questions starts
    (``eval run``); ``uncached=skip`` leaves missing tiers out instead. One question
    loads them as it needs them (``fetching_tiers``)."""
    for spec in specs:
        name, options = spec.name, spec.options
        if options.get("judge"):
            ensure_model(options["judge"])
        if name != "auto" or options.get("uncached") == "skip":
            continue
        for tier in tier_specs(options.get("tiers")):
            ensure_model(tier)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def with_threads(spec: str, threads: int | None) -> str:
    """``spec`` with its embedded ``threads`` option set to ``threads`` (None: as given)."""
    if threads is None:
        return spec
    if threads < 1:
        raise ConfigError(f"--threads must be a positive integer, got {threads}")
    scheme, target, options = parse_spec(spec)
    if scheme != "embedded":
        raise ConfigError(f"--threads applies to embedded models, not {spec}")
    options["threads"] = str(threads)
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"embedded:{target or models.DEFAULT_MODEL}?{query}"


THREADS_HELP = (
    "llama.cpp threads for an embedded model (default: the free cores, from CPU affinity and load)"
)


def threaded_specs(specs: list[str], threads: int | None) -> list[str]:
    """``serve``'s model specs (``SPEC`` or ``NAME=SPEC``) with ``--threads`` applied to the
    embedded ones; the default model when none is given."""
    if threads is None:
        return specs
    out = []
    for spec in specs or [f"embedded:{models.DEFAULT_MODEL}"]:
        head, sep, tail = spec.partition("=")
        named = bool(sep) and not any(c in head for c in ":?/")
        name, target = (f"{head}=", tail) if named else ("", spec)
        if parse_spec(target)[0] == "embedded":
            target = with_threads(target, threads)
        out.append(name + target)
    return out


def cost_budget_options(help_text: str) -> Callable[[Command], Command]:
    """``--cost-budget`` (average cost, in multiples of a direct answer's), and its old
    spelling ``--budget``, hidden and accepted with a deprecation notice for one
    release; the command reads both through ``cost_budget_of``."""

    def decorate(command: Command) -> Command:
        old = click.option(
            "--budget",
            "budget",
            type=float,
            default=None,
            hidden=True,
            deprecated="use --cost-budget (--budget goes in the next release)",
        )
        new = click.option("--cost-budget", "cost_budget", type=float, default=None, help=help_text)
        return new(old(command))

    return decorate


def cost_budget_of(cost_budget: float | None, budget: float | None) -> float | None:
    """The cost budget asked for, under its name or its old one (not both)."""
    if cost_budget is not None and budget is not None:
        raise ConfigError("give --cost-budget only (--budget is its old name)")
    return cost_budget if cost_budget is not None else budget
