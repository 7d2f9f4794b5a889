"""Stored sampling runs carried to a larger completion budget without drawing again.

Sampling is autoregressive: a sample that stopped at ``max_tokens`` and is continued
from where it stopped, with the same temperature and top-p, is distributed exactly like
one drawn with the larger budget (greedy continuation is the greedy output itself). A
sample that stopped on its own would have stopped the same way with more room. So
``extend_records`` continues only the cut-off samples of sampling-mode records (through
a backend that ``Continues``, by the one mechanism live draws use too:
``ponder.strategies.resume``), re-extracts their answers and stores each record,
with its new sampling spec, in a run directory, resumably: a rerun skips the records
already there.

Costs are counted as a single draw at the new budget would pay them: the continued
tokens join the sample's completion tokens; the prompt that a continuation re-sends
(prompt plus the text begun) is an artefact of extending and is not charged. When the
continuation's prompt (prompt plus the text begun) counts another number of tokens than
the draw had (the prefix re-tokenised to another split, see ``EmbeddedBackend``), the
join was not exact: such samples are counted (``resplit``, per record and in all). A
sample whose token logprobs were stored as their mean (an export) keeps one mean, weighted by
tokens; a full list is extended.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ponder import cost
from ponder.answers import answers_match
from ponder.answers.program import PROGRAM_STOP
from ponder.backends import identity_spec
from ponder.backends.base import Backend, Continues
from ponder.budgets import ceiling_for, max_tokens_for
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.lock import run_lock
from ponder.eval.runner import (
    SAMPLE_MODE,
    SampleOptions,
    annotate_pool,
    is_program,
    messages_for,
)
from ponder.eval.store import Record, SampleStore
from ponder.strategies import parse_strategy_spec
from ponder.strategies.resume import merge, resume
from ponder.types import Sample, SamplingParams, Usage

Progress = Callable[[int, int, dict[str, Any]], None]
"""progress(done, total, record) after each record stored."""


@dataclass(frozen=True)
class ExtendSummary:
    records: int  # sampling records given
    skipped: int  # already extended in the output directory
    extended: int  # records stored by this run
    continued: int  # samples continued
    still_truncated: int  # of them, those that stopped at the new budget too
    resplit: int  # of them, those whose text re-tokenised to another token count
    tokens: int  # completion tokens the continuations generated
    wall_s: float


def with_max_tokens(spec: str, max_tokens: int) -> str:
    """The sampling spec with its ``max_tokens`` option set to ``max_tokens``."""
    name, options = parse_strategy_spec(spec)
    options["max_tokens"] = str(max_tokens)
    return f"{name}:" + ",".join(f"{k}={v}" for k, v in options.items())


def stored_budget(record: Record) -> int:
    """The budget a sampling record was drawn with: its spec's ``max_tokens``, else the
    length of its cut-off samples (each stopped exactly there), else the model's default
    (the ceiling its samples were resumed up to, for a model ``ponder.budgets`` does not
    name)."""
    name, options = parse_strategy_spec(record.strategy)
    asked = SampleOptions.parse(options, name).max_tokens
    if asked is not None:
        return asked
    cut = [s.completion_tokens for s in record.to_samples() if s.finish_reason == "length"]
    model = record.model_label
    return max(cut) if cut else ceiling_for(model) or max_tokens_for(model)


def check_records(records: Sequence[Record], model: str, max_tokens: int) -> None:
    """Refuse records this extension cannot carry: not sampling mode, drawn by another
    model, or drawn with a larger budget than ``max_tokens``."""
    for record in records:
        where = f"record {record.item.get('id', '?')}"
        spec = record.strategy
        if parse_strategy_spec(spec)[0] != SAMPLE_MODE:
            raise ConfigError(
                f"{where} holds strategy {spec!r}: only sampling-mode records "
                "(sample:...) can be extended"
            )
        if identity_spec(record.model) != identity_spec(model):
            raise ConfigError(
                f"{where} was drawn by {record.model}, not {model}: continue a run "
                "with the model that drew it"
            )
        if stored_budget(record) > max_tokens:
            raise ConfigError(
                f"{where} was drawn with max_tokens {stored_budget(record)}; "
                f"--max-tokens {max_tokens} would not extend it"
            )


async def _extend_one(
    record: Record,
    backend: Continues,
    max_tokens: int,
    gate: asyncio.Semaphore,
    counts: dict[str, int],
) -> Record:
    item = Item.from_dict(record.item, record.item_id or "item", require_answer=False)
    program = is_program(record.strategy)
    messages = messages_for(item, program)
    samples = record.to_samples()
    start = time.perf_counter()
    resplit: list[int] = []

    async def go_on(sample: Sample) -> None:
        params = SamplingParams(
            temperature=sample.temperature, stop=PROGRAM_STOP if program else ()
        )
        async with gate:
            more = await resume(backend, messages, sample, params, max_tokens)
        counts["tokens"] += more.completion_tokens
        if (
            more.prompt_tokens
            and more.prompt_tokens != sample.prompt_tokens + sample.completion_tokens
        ):
            counts["resplit"] += 1  # the join was not made on the drawn tokens
            resplit.append(1)
        merge(sample, more)
        annotate_pool([sample], item, program)
        counts["continued"] += 1
        counts["still_truncated"] += sample.truncated

    cut = [s for s in samples if s.truncated and s.completion_tokens < max_tokens]
    await asyncio.gather(*(go_on(s) for s in cut))
    wall_s = time.perf_counter() - start
    return _rebuilt(record, item, samples, max_tokens, (len(cut), len(resplit)), wall_s)


def _rebuilt(
    record: Record,
    item: Item,
    samples: list[Sample],
    max_tokens: int,
    continued: tuple[int, int],
    wall_s: float,
) -> Record:
    """The record at the new budget; ``continued``: (samples continued, of them resplit)."""
    spec = record.strategy
    usage = Usage.from_samples(samples, wall_s=float(record.wall_s or 0.0) + wall_s)
    prediction = samples[0].answer if samples else None
    origin = (record.extended or {}).get("from", spec)
    done, resplit = continued
    extended = {"from": origin, "continued": done, "wall_s": round(wall_s, 3), "resplit": resplit}
    return record.model_copy(
        update={
            "strategy": with_max_tokens(spec, max_tokens),
            "prediction": prediction,
            "correct": answers_match(prediction, item.answer, item.kind),
            "samples": [s.to_dict() for s in samples],
            "usage": usage.to_dict(),
            "cost": cost.estimate(usage, record.model_name or "", record.active_params).to_dict(),
            "wall_s": round(usage.wall_s, 3),
            "extended": extended,
            "finished_at": round(time.time(), 3),
        }
    )


async def extend_records(
    records: Sequence[dict[str, Any]],
    backend: Backend,
    max_tokens: int,
    store: SampleStore,
    *,
    model: str | None = None,
    concurrency: int = 2,
    slots: int = 8,
    progress: Progress | None = None,
) -> ExtendSummary:
    """Continue the cut-off samples of ``records`` to ``max_tokens``; store each record.

    ``model`` (default the backend's name) must be the model that drew the records.
    ``concurrency`` records and ``slots`` continuations run at once; records already
    in ``store`` at this budget are skipped. Failed records (``error``) are left out."""
    if not isinstance(backend, Continues):
        raise ConfigError(f"{backend.name} cannot continue a reply: use an embedded model")
    if concurrency < 1 or slots < 1:
        raise ConfigError("concurrency and slots must be at least 1")
    model = identity_spec(model or backend.name)
    typed = [r for r in map(Record.from_dict, records) if not r.error]
    check_records(typed, model, max_tokens)
    with run_lock(store.directory):
        specs = sorted({with_max_tokens(r.strategy, max_tokens) for r in typed})
        store.claim({"model": model, "strategies": specs, "max_tokens": max_tokens})
        done = store.finished()
        todo = [
            r
            for r in typed
            if (r.item_id, model, with_max_tokens(r.strategy, max_tokens)) not in done
        ]
        counts = {"continued": 0, "still_truncated": 0, "tokens": 0, "stored": 0, "resplit": 0}
        start = time.perf_counter()
        await _extend_all(todo, backend, max_tokens, store, concurrency, slots, counts, progress)
    return ExtendSummary(
        records=len(typed),
        skipped=len(typed) - len(todo),
        extended=counts["stored"],
        continued=counts["continued"],
        still_truncated=counts["still_truncated"],
        resplit=counts["resplit"],
        tokens=counts["tokens"],
        wall_s=time.perf_counter() - start,
    )


async def _extend_all(
    todo: list[Record],
    backend: Continues,
    max_tokens: int,
    store: SampleStore,
    concurrency: int,
    slots: int,
    counts: dict[str, int],
    progress: Progress | None,
) -> None:
    records_gate, samples_gate = asyncio.Semaphore(concurrency), asyncio.Semaphore(slots)

    async def one(record: Record) -> None:
        async with records_gate:
            extended = await _extend_one(record, backend, max_tokens, samples_gate, counts)
            line = extended.to_dict()
            store.append(line)
            counts["stored"] += 1
            if progress is not None:
                progress(counts["stored"], len(todo), line)

    await asyncio.gather(*(one(r) for r in todo))
