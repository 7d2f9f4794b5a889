"""Self-consistency: sample reasoning paths, extract answers, vote (Wang et al. 2023).

Samples are drawn in waves; one wave is one request with ``n`` when the backend
shares the prompt prefill. After each wave a stopping rule decides whether the
vote is settled, so easy questions stop after a few samples and hard ones use the
whole budget. Votes are a plain majority or weighted by each sample's probability
(exp of its mean token logprob).
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import Field

from ponder.strategies.base import BaseStrategy, ManyOptions, Work, annotate, draw, finish
from ponder.strategies.stopping import RULES, make_rule
from ponder.strategies.tiers import Ladder
from ponder.types import Question, Result, Sample
from ponder.voting import leaders, tally, winner

__all__ = ["SCOptions", "SelfConsistency", "leaders", "tally", "winner"]


class SCOptions(ManyOptions):
    stop: Literal["fixed", "none", "esc", "beta", "margin"] = Field(
        "fixed", description=f"early stopping rule: {', '.join(RULES)}"
    )
    wave: int | None = Field(None, ge=1, le=256, description="samples drawn between checks")
    threshold: float | None = Field(None, gt=0, description="beta confidence / margin votes")
    weighted: bool = Field(False, description="weight votes by sample probability")


class SelfConsistency(BaseStrategy):
    name = "sc"

    def __init__(self, options: SCOptions | None = None) -> None:
        self.options = options or SCOptions()
        self.rule = make_rule(self.options.stop, self.options.wave, self.options.threshold)

    def work(self) -> Work:
        return self.options.work()

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        o = self.options
        backend = await ladder.bottom()
        messages, params = o.prompt(question), o.sampling(backend.model)
        wave = self.rule.wave or o.n
        samples: list[Sample] = []
        trace = []
        while len(samples) < o.n:
            batch = await draw(backend, messages, params, min(wave, o.n - len(samples)))
            annotate(batch, question, o.program)
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
