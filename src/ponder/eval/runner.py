"""Run strategies over a dataset and store every sample, resumably.

Any strategy spec (``direct``, ``sc:n=8,stop=esc``, ``auto``) is accepted: each item is
solved live, on the backend as a ladder of one, and its Result (answer, samples, usage,
cost) is stored. ``sample:n=16,temperature=0.7,max_tokens=384`` is the sampling mode
(``ponder.strategies.pool``): per item one greedy sample plus ``n`` at ``temperature``;
with ``program=true`` arithmetic programs instead, which replay keeps apart from the
step-by-step pools (``Pools.programs``). Replay (``ponder.eval.replay``) then evaluates
any strategy, stopping rule or router from these samples without calling a model again.

A finished item is one line of the store; a rerun skips it unless the item's content
changed under the same id (its question, gold answer, kind or choices: a hash of them
is stored). An item that fails is stored with its error and retried by the next run;
it stops the run only past ``max_failures``. One run at a time holds the store's
directory (``ponder.eval.lock``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ponder.answers import answers_match
from ponder.backends import identity_spec
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.lock import run_lock
from ponder.eval.store import Record, SampleStore
from ponder.strategies import Strategy, make_strategy, parse_strategy_spec
from ponder.strategies.base import solve_on
from ponder.strategies.pool import SAMPLE, SampleOptions, pool_messages, reannotate
from ponder.strategies.tiers import Ladder
from ponder.types import Message, Question, Sample, as_question

SAMPLE_MODE = SAMPLE
"""The sampling mode's name (``ponder.strategies.pool``)."""

Progress = Callable[[int, int, dict[str, Any]], None]
"""progress(done, total, record) after each item (finished or failed)."""

Started = Callable[[int], None]
"""started(total) once, before the first model call, with the number of items to do."""


@dataclass(frozen=True)
class RunSummary:
    total: int
    skipped: int
    finished: int
    failed: int
    wall_s: float
    changed: tuple[str, ...] = ()  # ids of items whose content changed since stored
    not_run: int = 0  # items left undone because failures passed max_failures
    samples: int = 0  # samples drawn by this run
    truncated: int = 0  # of them, those that stopped at max_tokens


@dataclass(frozen=True)
class RunSpec:
    """A strategy spec of a run, parsed and checked once (``check_specs``): ``text`` as
    given keys the stored records; ``mode`` is the strategy the spec names, built once
    and used for every item (a strategy keeps no state between calls)."""

    text: str
    name: str
    options: dict[str, Any]
    mode: Strategy


def item_hash(item: dict[str, Any]) -> str:
    """A short hash of an item's content (question, answer, kind, choices...)."""
    text = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def plan_work(
    items: Sequence[Item], strategies: Sequence[str], store: SampleStore, model: str
) -> tuple[list[tuple[Item, str]], list[str]]:
    """(item, strategy) pairs to run and ids of items that changed under the same id."""
    latest = {r.key: r for r in map(Record.from_dict, store.records())}
    todo, changed = [], []
    for spec in strategies:
        for item in items:
            record = latest.get((item.id, model, spec))
            stored = record and (record.item_hash or item_hash(record.item))
            if record and stored != item_hash(item.to_dict()):
                changed.append(item.id)
            elif record and not record.error:
                continue
            todo.append((item, spec))
    return todo, list(dict.fromkeys(changed))


def is_program(spec: str) -> bool:
    """True for a sampling-mode spec that asks for programs (``sample:...,program=true``);
    a spec that does not parse is not one."""
    name, options = parse_strategy_spec(spec)
    if name != SAMPLE_MODE:
        return False
    try:
        return bool(SampleOptions.parse(options, SAMPLE_MODE).program)
    except ConfigError:
        return False


def question_of(item: Item) -> Question:
    """The question an item asks, with its kind and choices."""
    return as_question(item.question, item.kind, item.choices)


def annotate_pool(samples: Sequence[Sample], item: Item, program: bool) -> None:
    """Each sample's answer read afresh, as a live strategy reads it (``annotate``)."""
    reannotate(samples, question_of(item), program)


def messages_for(item: Item, program: bool = False) -> list[Message]:
    """The prompt every sampling-mode sample (and the router's live plans) use."""
    return pool_messages(question_of(item), program)


def _base_record(item: Item, spec: str, model: str, backend: Backend) -> Record:
    data = item.to_dict()
    return Record.model_construct(
        item=data,
        item_hash=item_hash(data),
        model=model,
        model_name=backend.model,
        active_params=backend.active_params,
        strategy=spec,
        error=None,
    )


async def _solve(item: Item, spec: RunSpec, backend: Backend) -> dict[str, Any]:
    start = time.perf_counter()
    result = await solve_on(spec.mode, question_of(item), Ladder.of(backend))
    return {
        "prediction": result.answer,
        "correct": answers_match(result.answer, item.answer, item.kind),
        "confidence": result.confidence,
        "samples": [s.to_dict() for s in result.samples],
        "usage": result.usage.to_dict(),
        "cost": result.cost.to_dict(),
        "trace": result.trace,
        "wall_s": round(time.perf_counter() - start, 3),
    }


def check_specs(strategies: Sequence[str]) -> list[RunSpec]:
    """Each spec parsed and checked once, before any model call (ConfigError on a bad
    one): the strategy built."""
    checked = []
    for spec in strategies:
        name, options = parse_strategy_spec(spec)
        checked.append(RunSpec(spec, name, options, make_strategy(name, **options)))
    return checked


async def _run_one(item: Item, spec: RunSpec, backend: Backend, model: str) -> Record:
    record = _base_record(item, spec.text, model, backend)
    try:
        record = record.model_copy(update=await _solve(item, spec, backend))
    except Exception as exc:  # a failed item is recorded, never fatal
        record = record.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
    return record.model_copy(update={"finished_at": round(time.time(), 3)})


async def run_eval(
    items: Sequence[Item],
    backend: Backend,
    strategies: Sequence[str | RunSpec],
    store: SampleStore,
    *,
    model: str | None = None,
    concurrency: int = 2,
    progress: Progress | None = None,
    max_failures: int | None = None,
    started: Started | None = None,
) -> RunSummary:
    """Solve every (item, strategy) not finished yet; store each outcome as it lands.

    A strategy given as text is checked first (``check_specs``), a ``RunSpec`` is used as
    it is. Past ``max_failures`` failed items no new item starts (None: never stop early).
    The store's directory is locked for the run (RunInUseError when another holds it)."""
    specs = [s if isinstance(s, RunSpec) else check_specs([s])[0] for s in strategies]
    once: dict[str, RunSpec] = {}
    for spec in specs:
        once.setdefault(spec.text, spec)  # a spec named twice runs once
    specs = list(once.values())
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    model = identity_spec(model or backend.name)
    by_text = {spec.text: spec for spec in specs}
    with run_lock(store.directory):
        planned, changed = plan_work(items, [spec.text for spec in specs], store, model)
        todo = [(item, by_text[text]) for item, text in planned]
        if started is not None:
            started(len(todo))
        start = time.perf_counter()
        counts = await _work(todo, backend, store, model, concurrency, progress, max_failures)
    everything = len(items) * len(specs)
    return RunSummary(
        total=everything,
        skipped=everything - len(todo),
        finished=counts["done"] - counts["failed"],
        failed=counts["failed"],
        wall_s=time.perf_counter() - start,
        changed=tuple(changed),
        not_run=len(todo) - counts["done"],
        samples=counts["samples"],
        truncated=counts["truncated"],
    )


async def _work(
    todo: list[tuple[Item, RunSpec]],
    backend: Backend,
    store: SampleStore,
    model: str,
    concurrency: int,
    progress: Progress | None,
    max_failures: int | None,
) -> dict[str, int]:
    gate = asyncio.Semaphore(concurrency)
    counts = {"done": 0, "failed": 0, "samples": 0, "truncated": 0}

    async def one(item: Item, spec: RunSpec) -> None:
        async with gate:
            if max_failures is not None and counts["failed"] > max_failures:
                return
            record = await _run_one(item, spec, backend, model)
            data = record.to_dict()
            store.append(data)
            counts["done"] += 1
            counts["failed"] += bool(record.error)
            counts["samples"] += int(record.usage.get("samples", 0))
            counts["truncated"] += int(record.usage.get("truncated", 0))
            if progress is not None:
                progress(counts["done"], len(todo), data)

    await asyncio.gather(*(one(item, spec) for item, spec in todo))
    return counts
