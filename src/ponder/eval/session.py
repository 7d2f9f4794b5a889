"""One eval run into a run directory, as ``ponder eval run`` and ``ponder distill generate``
drive it: the items chosen (``select_items``), the strategy specs checked once
(``runner.check_specs``), then ``open_run`` holds the directory's lock, records the
run's settings there (refusing another model's), fetches and loads the model, and its
``EvalRun`` runs every item not done yet. The CLI adds only progress, Ctrl-C and the
closing lines.

    specs = check_specs(["sample:n=16"])
    with open_run("runs/x", select_items("arith", None), "embedded:smollm2-135m", specs) as run:
        summary = asyncio.run(run.run(concurrency=2))
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.eval.datasets import Item, load_jsonl
from ponder.eval.lock import run_lock
from ponder.eval.runner import Progress, RunSpec, RunSummary, Started, run_eval
from ponder.eval.store import SampleStore
from ponder.eval.suites import suite_items


def parse_levels(value: str | None) -> list[int] | None:
    """``"1,2,3"`` -> ``[1, 2, 3]``; None or empty: every level."""
    if not value:
        return None
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise ConfigError(f"--levels must be comma-separated integers, got {value!r}") from None


def select_items(
    suite: str | None,
    data: str | None,
    limit: int | None = None,
    per_level: int = 20,
    levels: str | None = None,
    seed: int = 0,
    require_answer: bool = True,
) -> list[Item]:
    """Items of a built-in suite (``limit`` or ``per_level`` per level) or a JSONL
    dataset (its first ``limit``); exactly one of ``suite`` and ``data``.
    ``require_answer`` False: dataset items may lack a gold answer (distillation labels
    them by agreement)."""
    if (suite is None) == (data is None):
        raise ConfigError("give exactly one of --suite NAME or --data FILE.jsonl")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    if suite is not None:
        return suite_items(suite, limit or per_level, seed, parse_levels(levels))
    if levels:
        raise ConfigError("--levels applies to --suite, not --data")
    items = load_jsonl(str(data), require_answer)
    return items[:limit] if limit else items


@dataclass
class EvalRun:
    """A claimed run directory with its model loaded: ``run`` solves what is not done."""

    items: list[Item]
    backend: Backend
    specs: list[RunSpec]
    store: SampleStore
    model: str

    async def run(
        self,
        *,
        concurrency: int = 2,
        max_failures: int | None = None,
        progress: Progress | None = None,
        started: Started | None = None,
    ) -> RunSummary:
        return await run_eval(
            self.items,
            self.backend,
            self.specs,
            self.store,
            model=self.model,
            concurrency=concurrency,
            progress=progress,
            max_failures=max_failures,
            started=started,
        )


@contextmanager
def open_run(
    out: str | Path,
    items: Sequence[Item],
    model: str,
    specs: Sequence[RunSpec],
    meta: dict[str, Any] | None = None,
    fetch: Callable[[str], None] | None = None,
) -> Iterator[EvalRun]:
    """Hold ``out``'s lock for the block (RunInUseError when another run holds it),
    record the run's settings in its ``run.json`` with ``meta`` (ConfigError for another
    model than it holds: ``SampleStore.claim``), ``fetch`` the model (a download with
    progress, say) and load it."""
    store = SampleStore(out)
    with run_lock(out):
        texts = [spec.text for spec in specs]
        store.claim({"model": model, "strategies": texts, **(meta or {}), "items": len(items)})
        if fetch is not None:
            fetch(model)
        yield EvalRun(list(items), load_backend(model), list(specs), store, model)
