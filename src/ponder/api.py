"""The one-call entry points: ``ask`` and ``ask_async``."""

from __future__ import annotations

import asyncio
from typing import Any

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.models import DEFAULT_MODEL
from ponder.strategies import make_strategy
from ponder.strategies.base import Question
from ponder.types import Result


async def ask_async(
    question: Question,
    model: str | Backend = DEFAULT_MODEL,
    strategy: str = "sc",
    **options: Any,
) -> Result:
    """Answer a question with a strategy over a backend (spec string or object)."""
    backend = load_backend(model) if isinstance(model, str) else model
    return await make_strategy(strategy, **options).solve(question, backend)


def ask(
    question: Question,
    model: str | Backend = DEFAULT_MODEL,
    strategy: str = "sc",
    **options: Any,
) -> Result:
    """Blocking ``ask_async``."""
    return asyncio.run(ask_async(question, model, strategy, **options))
