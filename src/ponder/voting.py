"""Votes over extracted answers: the tally and the winner that self-consistency, the
router's cascade and replay all share, and ``top_choice``, the pick by scores that
best-of-N, the step searches and a plan's ``calc`` stage share."""

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


def winner(votes: dict[str, float], samples: Sequence[Sample] = ()) -> str | None:
    """The answer with most votes. A tie goes to the tied answer whose samples have the
    highest mean token log-probability (the model's surer answer), then to the one seen
    first."""
    tied = leaders(votes)
    if len(tied) < 2 or not samples:
        return tied[0] if tied else None
    return max(tied, key=lambda answer: (_mean_logprob(answer, samples), -tied.index(answer)))


def leaders(votes: dict[str, float]) -> list[str]:
    """Every answer with the most votes, in first-seen order (two or more: a tie)."""
    if not votes:
        return []
    top = max(votes.values())
    return [answer for answer, count in votes.items() if count == top]


def _mean_logprob(answer: str, samples: Sequence[Sample]) -> float:
    values = [s.mean_logprob for s in samples if s.answer == answer]
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else -math.inf


def top_choice(samples: Sequence[Sample], scores: Sequence[float]) -> int:
    """The best-scored sample that has an answer (one cut off mid-thought answers
    nothing, however sure its tokens were); a tie among the best (a verifier says 1 to
    several) goes to the answer most of them give, then to the surer one."""
    keys = [(s.answer is not None, score) for s, score in zip(samples, scores, strict=True)]
    top = max(keys)
    best = [i for i, k in enumerate(keys) if k == top]
    if len(best) == 1:
        return best[0]
    tied = [samples[i] for i in best]
    answer = winner(tally(tied), tied)
    return next((i for i in best if samples[i].answer == answer), best[0])
