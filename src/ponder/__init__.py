"""ponder: small models that answer like large ones.

>>> import ponder
>>> result = ponder.ask("What is 17 + 25?", strategy="sc:n=8")
>>> result.answer, result.votes, result.usage
"""

from __future__ import annotations

from ponder.api import ask, ask_async
from ponder.backends import load_backend, register_backend
from ponder.backends.base import Backend, BaseBackend
from ponder.backends.scripted import ReplayBackend, ScriptedBackend
from ponder.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
    DataError,
    ModelFetchError,
    PonderError,
    UnknownModelError,
    UnknownStrategyError,
    UpstreamError,
)
from ponder.strategies import BaseStrategy, Ladder, make_strategy, register_strategy
from ponder.types import Cost, Message, Question, Result, Sample, SamplingParams, Usage

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "BackendError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "BaseBackend",
    "BaseStrategy",
    "ConfigError",
    "Cost",
    "DataError",
    "Ladder",
    "Message",
    "ModelFetchError",
    "PonderError",
    "Question",
    "ReplayBackend",
    "Result",
    "Sample",
    "SamplingParams",
    "ScriptedBackend",
    "UnknownModelError",
    "UnknownStrategyError",
    "UpstreamError",
    "Usage",
    "__version__",
    "ask",
    "ask_async",
    "load_backend",
    "make_strategy",
    "register_backend",
    "register_strategy",
]
