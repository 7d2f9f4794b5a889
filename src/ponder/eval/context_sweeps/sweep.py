"""Run cases against a backend, resumably, into the same store as ``ponder eval run``.

One record per case: the case's metadata under ``item`` (its ``id`` keys the record
with the model and the task), the output, the exact score and the tokens the backend
reported. Finished cases are skipped on a rerun; a failed case is stored with its
error and retried next time. Cases run in the order given (the NIAH grid is ordered
so consecutive prompts share a prefix that the server's cache reuses).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.eval.context_sweeps.cases import Case, score
from ponder.eval.store import Record, SampleStore
from ponder.types import Message, SamplingParams

Progress = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class SweepSummary:
    total: int
    skipped: int
    finished: int
    failed: int
    wall_s: float
    prompt_tokens: int
    prefill_s: float

    @property
    def prefill_tokens_per_s(self) -> float:
        return self.prompt_tokens / self.prefill_s if self.prefill_s > 0 else 0.0


async def _run_case(case: Case, backend: Backend, model: str) -> Record:
    record = Record.model_construct(
        item={"id": case.id, **case.meta()}, model=model, strategy=case.task, error=None
    )
    params = SamplingParams(temperature=0.0, max_tokens=case.max_tokens)
    start = time.perf_counter()
    try:
        sample = (await backend.generate([Message("user", case.prompt)], params, 1))[0]
    except Exception as exc:  # a failed case is recorded, never fatal
        outcome: dict[str, Any] = {"error": f"{type(exc).__name__}: {exc}"}
    else:
        value = score(case, sample.text)
        outcome = {
            "output": sample.text,
            "score": value,
            "correct": value == 1.0,
            "prompt_tokens": sample.prompt_tokens,
            "completion_tokens": sample.completion_tokens,
            "latency_s": round(sample.latency_s, 4),
        }
    outcome["wall_s"] = round(time.perf_counter() - start, 4)
    outcome["finished_at"] = round(time.time(), 3)
    return record.model_copy(update=outcome)


async def run_cases(
    cases: Sequence[Case],
    backend: Backend,
    store: SampleStore,
    *,
    model: str | None = None,
    concurrency: int = 1,
    progress: Progress | None = None,
) -> SweepSummary:
    """Run every case not finished yet; store each outcome as it lands."""
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    model = model or backend.name
    done = store.finished()
    todo = [c for c in cases if (c.id, model, c.task) not in done]
    gate = asyncio.Semaphore(concurrency)
    tally = {"done": 0, "failed": 0, "tokens": 0}
    latency = [0.0]
    start = time.perf_counter()

    async def one(case: Case) -> None:
        async with gate:
            record = await _run_case(case, backend, model)
            line = record.to_dict()
            store.append(line)
        tally["done"] += 1
        tally["failed"] += bool(record.error)
        tally["tokens"] += int(record.prompt_tokens or 0)
        latency[0] += float(record.latency_s or 0.0)
        if progress is not None:
            progress(tally["done"], len(todo), line)

    await asyncio.gather(*(one(c) for c in todo))
    return SweepSummary(
        total=len(cases),
        skipped=len(cases) - len(todo),
        finished=len(todo) - tally["failed"],
        failed=tally["failed"],
        wall_s=time.perf_counter() - start,
        prompt_tokens=tally["tokens"],
        prefill_s=latency[0],
    )


def sized_spec(spec: str, tokens: int) -> str:
    """An embedded spec given room for ``tokens``-token prompts: one slot of that
    context unless the spec sets ``ctx`` itself. Other specs are returned unchanged."""
    from ponder.backends import parse_spec

    scheme, _, options = parse_spec(spec)
    if scheme != "embedded" or "ctx" in options:
        return spec
    ctx = (tokens // 256 + 2) * 256
    extra = f"ctx={ctx}" + ("" if "slots" in options else "&slots=1")
    return f"{spec}{'&' if '?' in spec else '?'}{extra}"
