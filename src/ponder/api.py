"""The one-call entry points: ``ask`` and ``ask_async``."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.models import DEFAULT_MODEL
from ponder.strategies import make_strategy
from ponder.types import QuestionLike, Result, as_question


async def ask_async(
    question: QuestionLike,
    model: str | Backend = DEFAULT_MODEL,
    strategy: str = "sc",
    *,
    kind: str = "auto",
    choices: Sequence[str] | None = None,
    **options: Any,
) -> Result:
    """Answer a question with a strategy over a backend (spec string or object).

    ``kind`` (auto, number, choice, text) and ``choices`` describe the answer wanted;
    ``options`` are the strategy's (``n=8``, ``stop="esc"``...).
    """
    asked = as_question(question, kind, choices)
    solver = make_strategy(strategy, **options)
    backend = load_backend(model) if isinstance(model, str) else model
    return await solver.solve(asked, backend)


def ask(
    question: QuestionLike,
    model: str | Backend = DEFAULT_MODEL,
    strategy: str = "sc",
    *,
    kind: str = "auto",
    choices: Sequence[str] | None = None,
    **options: Any,
) -> Result:
    """Blocking ``ask_async``."""
    return asyncio.run(ask_async(question, model, strategy, kind=kind, choices=choices, **options))
