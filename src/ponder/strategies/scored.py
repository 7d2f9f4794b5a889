"""What a scorer returns: shared by the built-in scorers (``verifiers``, ``checks``) and
the reward endpoint (``reward``), so none has to import another's module for it; and
what one role's calls spent on one model (``Spent``), for a Result's trace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ponder import cost
from ponder.backends.base import Backend
from ponder.types import Cost, Sample, Usage

PARTIAL = "partial"  # the finish_reason of a search's unfinished path


@dataclass
class Spent:
    """What one role's calls cost on one model: the proposer's draws, a judge's ratings,
    a cross-check's programs."""

    role: str
    model: str
    usage: Usage
    cost: Cost

    @classmethod
    def of(cls, role: str, backend: Backend, samples: Iterable[Sample]) -> Spent:
        """``samples`` drawn from ``backend``, priced at its own model."""
        usage = Usage.from_samples(samples)
        return cls(
            role, backend.model, usage, cost.estimate(usage, backend.model, backend.active_params)
        )

    def to_dict(self) -> dict[str, Any]:
        u = self.usage
        return {
            "role": self.role,
            "model": self.model,
            "requests": u.requests,
            "samples": u.samples,
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "flops": self.cost.flops,
            "dollars": self.cost.dollars,
        }


def merged(spent: Sequence[Spent], more: Sequence[Spent]) -> list[Spent]:
    """``spent`` and ``more``, one entry per role and model."""
    out: dict[tuple[str, str], Spent] = {}
    for entry in (*spent, *more):
        key = (entry.role, entry.model)
        if key in out:
            was = out[key]
            out[key] = Spent(
                entry.role, entry.model, was.usage + entry.usage, was.cost + entry.cost
            )
        else:
            out[key] = entry
    return list(out.values())


@dataclass
class Scored:
    """Scores in sample order, plus the usage and cost of any calls made to score (by
    role and model in ``spent``), and what the trace should say (``detail``)."""

    scores: list[float]
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    spent: list[Spent] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def charged(cls, scores: list[float], spent: Spent, **detail: Any) -> Scored:
        """Scores whose calls are ``spent``'s."""
        return cls(scores, spent.usage, spent.cost, [spent], detail)
