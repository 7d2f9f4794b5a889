"""Best-of-N: draw N candidates, score each, keep the best (a verifier beats a vote
when most samples are wrong but a right one is among them)."""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.strategies.base import ManyOptions, Work, annotate, draw, finish
from ponder.strategies.verifiers import CallableScorer, ScoreFn, Scorer, ScorerName, make_scorer
from ponder.types import QuestionLike, Result, as_question
from ponder.voting import tally, top_choice


class BoNOptions(ManyOptions):
    scorer: ScorerName = Field(
        "logprob", description="logprob, judge, calc or reward (a callable in Python)"
    )
    reward_url: str | None = Field(None, description="the endpoint of scorer=reward")
    threshold: float | None = Field(None, description="accept the first candidate scoring >= this")


class BestOfN:
    name = "bon"

    def __init__(
        self, options: BoNOptions | None = None, scorer: Scorer | ScoreFn | None = None
    ) -> None:
        self.options = options or BoNOptions()
        o = self.options
        self.scorer = as_scorer(scorer) if scorer else make_scorer(o.scorer, o.reward_url)

    def work(self) -> Work:
        drawn = self.options.work()
        judged = self.scorer.work(self.options.n)
        return Work(drawn.samples + judged.samples, drawn.tokens + judged.tokens)

    async def solve(self, question: QuestionLike, backend: Backend) -> Result:
        start = time.perf_counter()
        o = self.options
        asked = as_question(question)
        samples = await draw(backend, o.prompt(asked), o.sampling(backend.model), o.n)
        annotate(samples, asked, o.program)
        scored = await self.scorer.score(asked.text, samples, backend)
        scores = scored.scores
        best = top_choice(samples, scores)
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
    if isinstance(scorer, Scorer):
        return scorer
    if callable(scorer):
        return CallableScorer(scorer)
    raise ConfigError(f"a scorer must be a name, a Scorer or a callable, not {scorer!r:.60}")


def bon_factory(options: dict[str, Any]) -> BestOfN:
    """``make_strategy("bon", scorer=fn)``: a scorer object or callable goes around the
    typed options, which hold only names."""
    scorer = options.get("scorer")
    if scorer is None or isinstance(scorer, str):
        return BestOfN(BoNOptions.parse(options, "bon"))
    rest = {k: v for k, v in options.items() if k != "scorer"}
    return BestOfN(BoNOptions.parse(rest, "bon"), as_scorer(scorer))
