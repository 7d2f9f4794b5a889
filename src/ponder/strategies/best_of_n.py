"""Best-of-N: draw N candidates, score each, keep the best (a verifier beats a vote
when most samples are wrong but a right one is among them)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import ManyOptions, Question, annotate, draw, finish
from ponder.strategies.self_consistency import tally
from ponder.strategies.verifiers import CallableScorer, ScoreFn, Scorer, make_scorer
from ponder.types import Result, as_messages, last_user_text


class BoNOptions(ManyOptions):
    scorer: str = Field("logprob", description="logprob or judge (a callable in Python)")
    threshold: float | None = Field(None, description="accept the first candidate scoring >= this")


class BestOfN:
    name = "bon"

    def __init__(
        self, options: BoNOptions | None = None, scorer: Scorer | ScoreFn | None = None
    ) -> None:
        self.options = options or BoNOptions()
        self.scorer = as_scorer(scorer) if scorer is not None else make_scorer(self.options.scorer)

    async def solve(self, question: Question, backend: Backend) -> Result:
        start = time.perf_counter()
        o = self.options
        text = last_user_text(as_messages(question))
        samples = await draw(backend, o.prompt(question), o.sampling(), o.n)
        annotate(samples, o.kind, None)
        scored = await self.scorer.score(text, samples, backend)
        scores = scored.scores
        best = max(range(len(samples)), key=lambda i: scores[i])
        if o.threshold is not None:
            best = next((i for i, s in enumerate(scores) if s >= o.threshold), best)
        chosen = samples[best]
        share = tally(samples).get(chosen.answer or "", 0.0) / len(samples)
        top = scores[best]
        confidence = top if 0.0 <= top <= 1.0 else share
        return finish(
            strategy=self.name,
            backend=backend,
            samples=samples,
            chosen=chosen,
            answer=chosen.answer,
            confidence=confidence,
            votes=tally(samples),
            wall_s=time.perf_counter() - start,
            trace=[
                {"step": "sample", "n": o.n, "temperature": o.temperature},
                {"step": "score", "scorer": self.scorer.name, "scores": scores, "best": best},
            ],
            extra_usage=scored.usage,
            extra_cost=scored.cost,
        )


def as_scorer(scorer: Scorer | ScoreFn | str) -> Scorer:
    """A scorer from a name, a Scorer, or any verifier/reward callable f(question, sample)."""
    if isinstance(scorer, str):
        return make_scorer(scorer)
    if callable(getattr(scorer, "score", None)):
        return scorer  # type: ignore[return-value]
    return CallableScorer(scorer)  # type: ignore[arg-type]


def bon_factory(options: dict[str, Any]) -> BestOfN:
    """``make_strategy("bon", scorer=fn)``: a scorer object or callable goes around the
    typed options, which hold only names."""
    scorer = options.get("scorer")
    if scorer is None or isinstance(scorer, str):
        return BestOfN(BoNOptions.parse(options, "bon"))
    rest = {k: v for k, v in options.items() if k != "scorer"}
    return BestOfN(BoNOptions.parse(rest, "bon"), as_scorer(scorer))
