"""Self-consistency: sample reasoning paths, extract answers, vote (Wang et al. 2023).

Samples are drawn in waves; one wave is one request with ``n`` when the backend
shares the prompt prefill. After each wave a stopping rule decides whether the
vote is settled, so easy questions stop after a few samples and hard ones use the
whole budget. Votes are a plain majority or weighted by each sample's probability
(exp of its mean token logprob).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Sequence

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import ManyOptions, Question, annotate, draw, finish
from ponder.strategies.stopping import RULES, make_rule
from ponder.types import Result, Sample


class SCOptions(ManyOptions):
    stop: str = Field("fixed", description=f"early stopping rule: {', '.join(RULES)}")
    wave: int | None = Field(None, ge=1, le=256, description="samples drawn between checks")
    threshold: float | None = Field(None, gt=0, description="beta confidence / margin votes")
    weighted: bool = Field(False, description="weight votes by sample probability")


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


class SelfConsistency:
    name = "sc"

    def __init__(self, options: SCOptions | None = None) -> None:
        self.options = options or SCOptions()
        self.rule = make_rule(self.options.stop, self.options.wave, self.options.threshold)

    async def solve(self, question: Question, backend: Backend) -> Result:
        start = time.perf_counter()
        o = self.options
        messages, params = o.prompt(question), o.sampling()
        wave = self.rule.wave or o.n
        samples: list[Sample] = []
        trace = []
        while len(samples) < o.n:
            batch = await draw(backend, messages, params, min(wave, o.n - len(samples)))
            annotate(batch, o.kind, None)
            samples += batch
            answers = [s.answer for s in samples]
            stop = self.rule.should_stop(answers)
            trace.append({"step": "wave", "n": len(batch), "drawn": len(samples), "stop": stop})
            if stop:
                break
        votes = tally(samples, o.weighted)
        answer = winner(votes, samples)
        tied = leaders(votes)
        total = sum(votes.values()) if o.weighted else len(samples)
        chosen = next((s for s in samples if s.answer == answer), samples[0])
        return finish(
            strategy=self.name,
            backend=backend,
            samples=samples,
            chosen=chosen,
            answer=answer,
            confidence=votes[answer] / total if answer is not None else 0.0,
            votes=votes,
            wall_s=time.perf_counter() - start,
            trace=[{"rule": self.rule.name, "budget": o.n}, *trace],
            tied=tied if len(tied) > 1 else [],
        )
