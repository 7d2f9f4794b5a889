"""Best-of-N: draw N candidates, score each, keep the best (a verifier beats a vote
when most samples are wrong but a right one is among them)."""

from __future__ import annotations

import copy
import time
from typing import Any

from pydantic import Field

from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.strategies.base import (
    BaseStrategy,
    ManyOptions,
    Work,
    annotate,
    draw,
    finish,
    objects,
)
from ponder.strategies.tiers import Ladder, Loader, LoadsTiers, Tier, as_tier
from ponder.strategies.verifiers import (
    AnswerScorerName,
    CallableScorer,
    ScoreFn,
    Scorer,
    make_scorer,
)
from ponder.types import Question, Result
from ponder.voting import tally, top_choice

JUDGE_HELP = (
    "the model that checks, instead of the solving one: the judge of scorer=judge, the "
    "programs of scorer=crosscheck (a backend spec, e.g. embedded:qwen2.5-coder-1.5b; "
    "operator only); loaded on first use"
)


class BoNOptions(ManyOptions):
    scorer: AnswerScorerName = Field(
        "logprob",
        description="logprob, judge, calc, reward or crosscheck (agreement with programs); "
        "a callable in Python",
    )
    reward_url: str | None = Field(None, description="the endpoint of scorer=reward")
    judge: str | None = Field(None, description=JUDGE_HELP)
    checks: int | None = Field(
        None, ge=1, le=16, description="programs drawn by scorer=crosscheck (default 1)"
    )
    threshold: float | None = Field(None, description="accept the first candidate scoring >= this")


class BestOfN(BaseStrategy):
    name = "bon"

    def __init__(
        self,
        options: BoNOptions | None = None,
        scorer: Scorer | ScoreFn | None = None,
        judge: Tier | Backend | None = None,
    ) -> None:
        """``judge`` (or the ``judge`` option's spec, loaded on first use) is the model a
        ``judge`` or ``crosscheck`` scorer asks instead of the solving backend."""
        self.options = options or BoNOptions()
        o = self.options
        if o.scorer == "crosscheck" and o.program:
            raise ConfigError(
                "scorer=crosscheck checks step-by-step answers against programs: drop program=true"
            )
        tier = as_tier(judge if judge is not None else o.judge)
        self.scorer = scorer_for(o.scorer, o.reward_url, tier, o.checks, o.max_tokens, scorer)

    def with_loader(self, load: Loader) -> BestOfN:
        """The same strategy loading its judge tier, if any, with ``load``."""
        clone = copy.copy(self)
        clone.scorer = with_loader(self.scorer, load)
        return clone

    def work(self) -> Work:
        drawn = self.options.work()
        judged = self.scorer.work(self.options.n)
        return Work(drawn.samples + judged.samples, drawn.tokens + judged.tokens)

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        o = self.options
        backend = await ladder.bottom()
        samples = await draw(backend, o.prompt(question), o.sampling(backend.model), o.n)
        annotate(samples, question, o.program)
        scored = await self.scorer.score(question.text, samples, backend)
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
                {
                    "step": "score",
                    "scorer": self.scorer.name,
                    "scores": scores,
                    "best": best,
                    **scored.detail,
                },
            ],
            extra_usage=scored.usage,
            extra_cost=scored.cost,
            spent_by=scored.spent,
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


def scorer_for(
    name: str,
    reward_url: str | None,
    judge: Tier | None,
    checks: int | None,
    max_tokens: int | None,
    given: Scorer | ScoreFn | None = None,
) -> Scorer:
    """The scorer a strategy's options name, or the one given (a Scorer or a callable,
    which asks its own models: a judge tier for it is an error)."""
    if given is None:
        return make_scorer(name, reward_url, judge, checks, max_tokens)
    if judge is not None:
        raise ConfigError("judge= is for a scorer named in the options: give your scorer its model")
    return as_scorer(given)


def with_loader(scorer: Scorer, load: Loader) -> Scorer:
    """``scorer`` loading the tier it asks, if any, with ``load``."""
    return scorer.with_loader(load) if isinstance(scorer, LoadsTiers) else scorer


def bon_factory(options: dict[str, Any]) -> BestOfN:
    rest, found = objects(options, "scorer", "judge")
    scorer = found.get("scorer")
    return BestOfN(
        BoNOptions.parse(rest, "bon"), as_scorer(scorer) if scorer else None, found.get("judge")
    )
