"""Run strategies over a dataset and store every sample, resumably.

Two kinds of strategy spec are accepted:

* any strategy spec (``direct``, ``sc:n=8,stop=esc``, ``auto``): each item is solved live
  and its Result (answer, samples, usage, cost) is stored;
* ``sample:n=16,temperature=0.7,max_tokens=384``, the sampling mode: per item one greedy
  sample plus ``n`` samples at ``temperature``, all with the step-by-step instruction;
  without ``max_tokens`` the model's step-by-step budget (``ponder.budgets``). With
  ``program=true`` every sample is asked for an arithmetic program instead and answers
  with its result (``ponder.answers.program``), at the plain prompt's budget; replay
  keeps these pools apart from the step-by-step ones (``Pools.programs``).
  Replay (``ponder.eval.replay``) then evaluates any strategy, stopping rule or router
  from these samples without calling a model again.

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
from dataclasses import dataclass, replace
from typing import Any

from pydantic import Field

from ponder import cost
from ponder.answers import answers_match
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends import identity_spec
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.lock import run_lock
from ponder.eval.store import Record, SampleStore
from ponder.strategies import Strategy, make_strategy, parse_strategy_spec
from ponder.strategies.base import (
    COT_INSTRUCTION,
    Options,
    annotate,
    draw,
    sampling_for,
    with_instruction,
)
from ponder.types import Result, Sample, Usage, as_messages, as_question

SAMPLE_MODE = "sample"

Progress = Callable[[int, int, dict[str, Any]], None]
"""progress(done, total, record) after each item (finished or failed)."""

Started = Callable[[int], None]
"""started(total) once, before the first model call, with the number of items to do."""


class SampleOptions(Options):
    n: int = Field(16, ge=0, le=256, description="samples at temperature, besides the greedy one")
    temperature: float = Field(0.7, gt=0.0, le=5.0, description="sampling temperature")
    max_tokens: int | None = Field(
        None,
        ge=1,
        le=32768,
        description="completion budget per sample (default: the model's, ponder.budgets)",
    )
    wave: int = Field(8, ge=1, le=256, description="samples per request (the backend's slots)")
    program: bool = Field(
        False, description="ask for arithmetic programs (program of thought), not steps"
    )


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
    given keys the stored records; ``mode`` is the sampling mode's options, or the
    strategy the spec names, built once and used for every item (a strategy keeps no
    state between calls)."""

    text: str
    name: str
    options: dict[str, Any]
    mode: SampleOptions | Strategy


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


def annotate_pool(samples: Sequence[Sample], item: Item, program: bool) -> None:
    """Each sample's answer read afresh, as a live strategy reads it (``annotate``)."""
    for sample in samples:
        sample.answer = None
    annotate(samples, as_question(item.question, item.kind, item.choices), program)


def messages_for(item: Item, program: bool = False) -> list[Any]:
    """The prompt every sampling-mode sample (and the router's live plans) use."""
    instruction = PROGRAM_INSTRUCTION if program else COT_INSTRUCTION
    return with_instruction(as_messages(item.question), instruction)


async def draw_pool(item: Item, backend: Backend, options: SampleOptions) -> list[Sample]:
    """One greedy sample, then ``n`` sampled ones in waves; answers extracted. Drawn as
    a live strategy draws (``draw``: a sample cut at a default budget is resumed)."""
    messages = messages_for(item, options.program)
    greedy = sampling_for(backend.model, options.max_tokens, 0.0, options.program)
    samples = await draw(backend, messages, greedy, 1)
    hot = replace(greedy, temperature=options.temperature)
    while len(samples) - 1 < options.n:
        n = min(options.wave, options.n - (len(samples) - 1))
        samples += await draw(backend, messages, hot, n)
    annotate_pool(samples, item, options.program)
    return samples


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
    if isinstance(spec.mode, SampleOptions):
        samples = await draw_pool(item, backend, spec.mode)
        usage = Usage.from_samples(samples, wall_s=time.perf_counter() - start)
        result = Result(
            answer=samples[0].answer,
            text=samples[0].text,
            confidence=1.0,
            strategy=SAMPLE_MODE,
            samples=samples,
            usage=usage,
            cost=cost.estimate(usage, backend.model, backend.active_params),
            model=backend.model,
        )
    else:
        question = as_question(item.question, item.kind, item.choices)
        result = await spec.mode.solve(question, backend)
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
    one): the sampling mode's options, or the strategy built."""
    checked = []
    for spec in strategies:
        name, options = parse_strategy_spec(spec)
        mode: SampleOptions | Strategy
        if name == SAMPLE_MODE:
            mode = SampleOptions.parse(options, SAMPLE_MODE)
        else:
            mode = make_strategy(name, **options)
        checked.append(RunSpec(spec, name, options, mode))
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
