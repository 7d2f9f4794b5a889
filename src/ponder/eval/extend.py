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
from ponder.eval.store import SampleStore
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


def stored_budget(record: dict[str, Any]) -> int:
    """The budget a sampling record was drawn with: its spec's ``max_tokens``, else the
    length of its cut-off samples (each stopped exactly there), else the model's default
    (the ceiling its samples were resumed up to, for a model ``ponder.budgets`` does not
    name)."""
    name, options = parse_strategy_spec(str(record["strategy"]))
    asked = SampleOptions.parse(options, name).max_tokens
    if asked is not None:
        return asked
    cut = [int(s.get("completion_tokens") or 0) for s in record["samples"] if _is_cut(s)]
    model = str(record.get("model_name") or record["model"])
    return max(cut) if cut else ceiling_for(model) or max_tokens_for(model)


def _is_cut(sample: dict[str, Any]) -> bool:
    return sample.get("finish_reason") == "length"


def check_records(records: Sequence[dict[str, Any]], model: str, max_tokens: int) -> None:
    """Refuse records this extension cannot carry: not sampling mode, drawn by another
    model, or drawn with a larger budget than ``max_tokens``."""
    for record in records:
        where = f"record {record.get('item', {}).get('id', '?')}"
        spec = str(record.get("strategy", ""))
        if parse_strategy_spec(spec)[0] != SAMPLE_MODE:
            raise ConfigError(
                f"{where} holds strategy {spec!r}: only sampling-mode records "
                "(sample:...) can be extended"
            )
        if identity_spec(str(record["model"])) != identity_spec(model):
            raise ConfigError(
                f"{where} was drawn by {record['model']}, not {model}: continue a run "
                "with the model that drew it"
            )
        if stored_budget(record) > max_tokens:
            raise ConfigError(
                f"{where} was drawn with max_tokens {stored_budget(record)}; "
                f"--max-tokens {max_tokens} would not extend it"
            )


async def _extend_one(
    record: dict[str, Any],
    backend: Continues,
    max_tokens: int,
    gate: asyncio.Semaphore,
    counts: dict[str, int],
) -> dict[str, Any]:
    item = Item.from_dict(record["item"], str(record["item"].get("id", "item")))
    program = is_program(str(record.get("strategy", "")))
    messages = messages_for(item, program)
    samples = [Sample.from_dict(s) for s in record["samples"]]
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
    extended = _rebuilt(record, item, samples, max_tokens, len(cut), time.perf_counter() - start)
    extended["extended"]["resplit"] = len(resplit)
    return extended


def _rebuilt(
    record: dict[str, Any],
    item: Item,
    samples: list[Sample],
    max_tokens: int,
    continued: int,
    wall_s: float,
) -> dict[str, Any]:
    spec = str(record["strategy"])
    usage = Usage.from_samples(samples, wall_s=float(record.get("wall_s") or 0.0) + wall_s)
    prediction = samples[0].answer if samples else None
    origin = (record.get("extended") or {}).get("from", spec)
    return {
        **record,
        "strategy": with_max_tokens(spec, max_tokens),
        "prediction": prediction,
        "correct": answers_match(prediction, item.answer, item.kind),
        "samples": [s.to_dict() for s in samples],
        "usage": usage.to_dict(),
        "cost": cost.estimate(
            usage, str(record.get("model_name") or ""), record.get("active_params")
        ).to_dict(),
        "wall_s": round(usage.wall_s, 3),
        "extended": {"from": origin, "continued": continued, "wall_s": round(wall_s, 3)},
        "finished_at": round(time.time(), 3),
    }


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
    records = [r for r in records if not r.get("error")]
    check_records(records, model, max_tokens)
    with run_lock(store.directory):
        specs = sorted({with_max_tokens(str(r["strategy"]), max_tokens) for r in records})
        store.claim({"model": model, "strategies": specs, "max_tokens": max_tokens})
        done = store.finished()
        todo = [
            r
            for r in records
            if (str(r["item"]["id"]), model, with_max_tokens(str(r["strategy"]), max_tokens))
            not in done
        ]
        counts = {"continued": 0, "still_truncated": 0, "tokens": 0, "stored": 0, "resplit": 0}
        start = time.perf_counter()
        await _extend_all(todo, backend, max_tokens, store, concurrency, slots, counts, progress)
    return ExtendSummary(
        records=len(records),
        skipped=len(records) - len(todo),
        extended=counts["stored"],
        continued=counts["continued"],
        still_truncated=counts["still_truncated"],
        resplit=counts["resplit"],
        tokens=counts["tokens"],
        wall_s=time.perf_counter() - start,
    )


async def _extend_all(
    todo: list[dict[str, Any]],
    backend: Continues,
    max_tokens: int,
    store: SampleStore,
    concurrency: int,
    slots: int,
    counts: dict[str, int],
    progress: Progress | None,
) -> None:
    records_gate, samples_gate = asyncio.Semaphore(concurrency), asyncio.Semaphore(slots)

    async def one(record: dict[str, Any]) -> None:
        async with records_gate:
            extended = await _extend_one(record, backend, max_tokens, samples_gate, counts)
            store.append(extended)
            counts["stored"] += 1
            if progress is not None:
                progress(counts["stored"], len(todo), extended)

    await asyncio.gather(*(one(r) for r in todo))
