"""What a client's sampling fields mean to a strategy.

A strategy samples at its own temperature, set by its options (``sc:temperature=0.9``
or ``ponder.options.temperature``), never by the client's ``temperature`` or
``top_p``: clients such as lm-eval always send ``temperature=0``, which would turn a
vote into n identical greedy samples at n times the cost. Those fields are listed in
``ponder.ignored``, and ``ponder.sampling`` says what was applied.

``seed`` seeds every draw, each its own: the k-th call to a backend while answering
choice i gets ``seed + i * ANSWER_STRIDE + k * CALL_STRIDE`` (the first draw gets the
seed itself), so waves and choices never repeat each other's samples and the same
request draws the same samples again. ``stop`` cuts the final answer's text, as a
model stopping there would have; the samples themselves are drawn whole, since the
vote reads their final answers.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ponder.backends.base import Backend, Continues
from ponder.strategies.tiers import Ladder
from ponder.types import Message, Result, Sample, SamplingParams

CALL_STRIDE = 1_000  # above the 256 seeds one generate() call may spread over requests
ANSWER_STRIDE = 1_000_000_000  # above CALL_STRIDE x any number of calls one answer makes
SEED_SPACE = 2**64


class SeededBackend:
    """A backend whose every ``generate`` call gets its own seed, derived from one seed
    in call order (a strategy's calls follow from its options and answers, so the order
    is the same on every run). One per answer of one request."""

    def __init__(self, backend: Backend, seed: int) -> None:
        self.inner = backend
        self.seed = seed
        self.calls = 0
        self.name = backend.name
        self.model = backend.model
        self.supports_n = backend.supports_n  # as of this request
        self.supports_logprobs = backend.supports_logprobs
        self.active_params = backend.active_params

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        return await self.inner.generate(messages, replace(params, seed=self.next_seed()), n)

    def next_seed(self) -> int:
        seed = (self.seed + self.calls * CALL_STRIDE) % SEED_SPACE
        self.calls += 1
        return seed

    async def check(self) -> None:
        await self.inner.check()

    async def aclose(self) -> None:
        """The served backend outlives the request: nothing to release here."""


class SeededContinuing(SeededBackend):
    """A seeded backend over one that resumes cut samples (``Continues``): resuming is
    seeded too, and strategies still see the capability."""

    def __init__(self, backend: Backend, seed: int, resumer: Continues) -> None:
        super().__init__(backend, seed)
        self.resumer = resumer  # the same backend, seen as Continues

    async def continue_text(
        self,
        messages: Sequence[Message],
        prefix: str,
        params: SamplingParams,
        prefix_ids: Sequence[int] | None = None,
    ) -> Sample:
        seeded_params = replace(params, seed=self.next_seed())
        return await self.resumer.continue_text(messages, prefix, seeded_params, prefix_ids)


def seeded(backend: Backend, seed: int) -> SeededBackend:
    """``backend`` with every call seeded from ``seed``, keeping what it can do."""
    if isinstance(backend, Continues):
        return SeededContinuing(backend, seed, backend)
    return SeededBackend(backend, seed)


def ladders(ladder: Ladder, n: int, seed: int | None) -> list[Ladder]:
    """The ladder of each of the ``n`` answers: with ``seed``, each answer's backends
    (every tier's) seeded apart."""
    if seed is None:
        return [ladder] * n
    out = []
    for i in range(n):
        start = (seed + i * ANSWER_STRIDE) % SEED_SPACE
        out.append(ladder.mapped(functools.partial(seeded, seed=start)))
    return out


def cut(text: str, stop: Sequence[str]) -> str | None:
    """``text`` up to the first stop string, or None when none occurs."""
    found = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(found)] if found else None


def stops(stop: str | list[str] | None) -> list[str]:
    if stop is None:
        return []
    return [s for s in ([stop] if isinstance(stop, str) else stop) if s]


def applied(results: Sequence[Result], stop: list[str], seed: int | None) -> dict[str, Any]:
    """What the draws were sampled with, as ``ponder.sampling`` reports it."""
    temperatures = {s.temperature for r in results for s in r.samples}
    report: dict[str, Any] = {"temperatures": sorted(temperatures)}
    if seed is not None:
        report["seed"] = seed
    if stop:
        report["stop"] = stop
    return report
