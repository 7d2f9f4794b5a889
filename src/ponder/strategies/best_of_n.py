"""Best-of-N: draw N candidates, score each, keep the best (a verifier beats a vote
when most samples are wrong but a right one is among them)."""

from __future__ import annotations

import time

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import (
    COT_INSTRUCTION,
    Options,
    Question,
    annotate,
    draw,
    finish,
    with_instruction,
)
from ponder.strategies.self_consistency import tally
from ponder.strategies.verifiers import JudgeScorer, Scorer, make_scorer
from ponder.types import Result, SamplingParams, Usage, as_messages, last_user_text


class BoNOptions(Options):
    n: int = Field(8, ge=1, le=256, description="candidates to draw")
    temperature: float = Field(0.7, ge=0.0, le=5.0, description="sampling temperature")
    max_tokens: int = Field(256, ge=1, le=32768, description="completion budget per sample")
    scorer: str = Field("logprob", description="logprob or judge (a callable in Python)")
    threshold: float | None = Field(None, description="accept the first candidate scoring >= this")
    cot: bool = Field(True, description="ask for step-by-step reasoning")
    kind: str = Field("auto", description="answer kind: auto, number, choice or text")


class BestOfN:
    name = "bon"

    def __init__(self, options: BoNOptions | None = None, scorer: Scorer | None = None) -> None:
        self.options = options or BoNOptions()
        self.scorer = scorer or make_scorer(self.options.scorer)

    async def solve(self, question: Question, backend: Backend) -> Result:
        start = time.perf_counter()
        o = self.options
        messages = as_messages(question)
        text = last_user_text(messages)
        if o.cot:
            messages = with_instruction(messages, COT_INSTRUCTION)
        params = SamplingParams(temperature=o.temperature, max_tokens=o.max_tokens)
        samples = await draw(backend, messages, params, o.n)
        annotate(samples, o.kind, None)
        if isinstance(self.scorer, JudgeScorer):
            scores, judge_usage = await self.scorer.score(text, samples, backend)
        else:
            scores, judge_usage = await self.scorer.score(text, samples)
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
            extra_usage=judge_usage if judge_usage.requests else Usage(),
        )
