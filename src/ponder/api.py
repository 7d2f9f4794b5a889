"""The one-call entry points: ``ask`` and ``ask_async``.

``ask`` blocks; called where an event loop already runs (a notebook, an async app) it
runs the question on a worker thread with its own loop. Inside async code prefer
``await ask_async(...)``, which does not block the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL
from ponder.strategies import make_strategy
from ponder.strategies.base import solve_on
from ponder.strategies.tiers import Ladder
from ponder.types import QuestionLike, Result, as_question


async def ask_async(
    question: QuestionLike,
    model: str | Backend | None = DEFAULT_MODEL,
    strategy: str = "sc",
    *,
    kind: str = "auto",
    choices: Sequence[str] | None = None,
    **options: Any,
) -> Result:
    """Answer a question with a strategy over a backend (spec string or object; None:
    the default model). ``kind`` (auto, number, choice, text) and ``choices`` describe
    the answer wanted; ``options`` are the strategy's (``n=8``, ``stop="esc"``...).
    ``bon`` takes ``scorer=`` a name, a Scorer or any callable
    ``f(question, sample) -> number | bool``, sync or async."""
    asked = as_question(question, kind, choices)
    solver = make_strategy(strategy, **options)
    return await solve_on(solver, asked, Ladder.of(_backend(model)))


def _backend(model: str | Backend | None) -> Backend:
    if model is None:
        return load_backend(DEFAULT_MODEL)
    if isinstance(model, str):
        return load_backend(model)
    if not isinstance(model, Backend):
        raise ConfigError(
            f"model must be a backend spec such as 'embedded:{DEFAULT_MODEL}' or a Backend, "
            f"not {type(model).__name__}"
        )
    return model


def ask(
    question: QuestionLike,
    model: str | Backend | None = DEFAULT_MODEL,
    strategy: str = "sc",
    *,
    kind: str = "auto",
    choices: Sequence[str] | None = None,
    **options: Any,
) -> Result:
    """Blocking ``ask_async``; works inside a running event loop too (see the module)."""
    job = ask_async(question, model, strategy, kind=kind, choices=choices, **options)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(job)
    with ThreadPoolExecutor(1, thread_name_prefix="ponder-ask") as pool:
        return pool.submit(asyncio.run, job).result()
