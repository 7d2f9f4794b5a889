"""Votes over extracted answers: the tally and the winner that self-consistency, the
router's cascade and replay all share."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

from ponder.types import Sample


def tally(samples: Sequence[Sample], weighted: bool = False) -> dict[str, float]:
    """Votes per extracted answer, in first-seen order."""
    votes: dict[str, float] = defaultdict(float)
    for sample in samples:
        if sample.answer is None:
            continue
        mean = sample.mean_logprob
        votes[sample.answer] += math.exp(mean) if weighted and mean is not None else 1.0
    return dict(votes)


def winner(votes: dict[str, float]) -> str | None:
    """The answer with most votes; ties go to the answer seen first."""
    best: str | None = None
    for answer, count in votes.items():
        if best is None or count > votes[best]:
            best = answer
    return best
