"""The ``auto`` strategy: route each question to a plan and run its cascade live.

    auto                                     shipped router, the given backend only
    auto:tiers=embedded:smollm2-135m|embedded:qwen2.5-coder-0.5b,budget=3
    auto:tiers=ladder                        the three local models, smallest first
    auto:tiers=ladder,uncached=skip          only the ones already downloaded
    auto:router=router.json,plan=g+2@0 > cot@1
    auto:plan=g+2@0 pot > 8@0                programs first (program of thought), then votes

``solve(question, backend)`` uses ``backend`` as tier 0 and the strategy's tiers,
cheapest first, after it; a first tier that is ``backend`` itself stands for it. The
strategy receives its tiers as backends (``AutoStrategy(tiers=[...])``; the proxy
passes the operator's ``--tiers``); a ``tiers=`` spec is resolved once, when the
strategy is built (``make_strategy``), never while it answers. Plans that need a tier
the strategy does not have are never chosen. ``tiers``, ``router`` and ``plan`` are
operator settings: the proxy refuses them in a request.

With a probe router (``Router.probe``) the strategy first draws one greedy sample on
tier 0, routes on the question and on what that sample showed, and runs the plan; the
probe is paid for either way, and a plan that opens with it reuses it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from ponder import cost, models
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends import load_backend, parse_spec
from ponder.backends.base import Backend
from ponder.budgets import CEILING
from ponder.routing.cascade import Decision, Draw, Plan, parse_plan, run_plan
from ponder.routing.features import PROBE_FEATURES, probe_features
from ponder.routing.router import PLAN_RULES, SAFE_PLANS, Router, rule_plan
from ponder.routing.router_file import default_router, load_router
from ponder.strategies.base import (
    COT_INSTRUCTION,
    Options,
    Work,
    annotate,
    draw,
    sampling_for,
    with_instruction,
)
from ponder.strategies.verifiers import calc_of
from ponder.types import (
    Cost,
    Message,
    Question,
    QuestionLike,
    Result,
    Sample,
    Usage,
    as_question,
)


class AutoOptions(Options):
    tiers: str | None = Field(
        None,
        description="backend specs, cheapest first, separated by '+' or '|'; 'ladder' is "
        "the three local models (smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b)",
    )
    uncached: Literal["fetch", "skip"] = Field(
        "fetch",
        description="a local tier not downloaded yet: fetch it on first use, or skip it "
        "with a one-line notice",
    )
    router: str | None = Field(None, description="router JSON file (default: the shipped one)")
    budget: float | None = Field(None, gt=0, description="average cost target, x direct")
    plan: str | None = Field(None, description="force one plan, e.g. 'g+2@0 > cot@1'")
    temperature: float = Field(0.7, gt=0.0, le=5.0, description="temperature of votes")
    max_tokens: int | None = Field(
        None, ge=1, le=32768, description="completion budget per sample (default: the model's)"
    )


class AutoStrategy:
    name = "auto"

    def __init__(
        self,
        options: AutoOptions | None = None,
        router: Router | None = None,
        tiers: Sequence[Backend] | None = None,
    ) -> None:
        self.options = options or AutoOptions()
        self.resolved = list(tiers) if tiers is not None else None
        o = self.options
        self.forced: Plan | None = parse_plan(o.plan) if o.plan else None
        self.router = router or (load_router(o.router) if o.router else default_router())
        if self.router is not None and o.budget is not None:
            self.router = self.router.with_budget(o.budget)

    def with_router(self, router: Router) -> AutoStrategy:
        """The same strategy on another router (the operator's), with this budget."""
        return AutoStrategy(self.options, router=router, tiers=self.resolved)

    def with_tiers(self, tiers: Sequence[Backend]) -> AutoStrategy:
        """The same strategy over resolved stronger tiers (after the solving backend)."""
        clone = copy.copy(self)
        clone.resolved = list(tiers)
        return clone

    def backends(self, backend: Backend) -> list[Backend]:
        tiers = list(self.resolved or ())
        if tiers and (tiers[0] is backend or tiers[0].name == backend.name):
            tiers = tiers[1:]
        return [backend, *tiers]

    def work(self) -> Work:
        """The largest plan this strategy may run, whatever the question."""
        if self.forced is not None:
            plans = [self.forced]
        else:
            plans = [p.plan for p in self.router.plans] if self.router is not None else []
            plans += [parse_plan(rule) for rule in (*PLAN_RULES, *SAFE_PLANS)]
        samples = max(plan.max_samples for plan in plans) + int(self.probes)
        return Work(samples, samples * (self.options.max_tokens or CEILING))

    @property
    def probes(self) -> bool:
        """True when the plan is chosen after a greedy probe on tier 0 (a probe router)."""
        return self.forced is None and self.router is not None and self.router.probe

    def choose(
        self, question: str, tiers: int, probe: Sample | None = None
    ) -> tuple[Plan, dict[str, Any]]:
        """The plan, and what the trace should say about the choice."""
        if self.forced is not None:
            return self.forced, {"by": "forced"}
        if self.router is None:
            return rule_plan(question, tiers), {"by": "rules"}
        plan, why = self.router.route(question, tiers, probe=probe)
        if why.get("outside"):
            return plan, {"by": "safe default: question outside the router's training data", **why}
        if probe is not None:
            seen = dict(zip(PROBE_FEATURES, probe_features(probe), strict=True))
            return plan, {"by": "router, after a greedy probe on tier 0", "probe": seen, **why}
        return plan, {"by": "router", **why}

    async def solve(self, question: QuestionLike, backend: Backend) -> Result:
        start = time.perf_counter()
        asked = as_question(question)
        messages, text = list(asked.messages), asked.text
        tiers = self.backends(backend)
        prompts = {
            False: with_instruction(messages, COT_INSTRUCTION),
            True: with_instruction(messages, PROGRAM_INSTRUCTION),
        }
        spent_by_tier: list[list[Sample]] = [[] for _ in tiers]
        probe = None
        if self.probes:  # paid for whatever follows; a plan that opens with it reuses it
            probe = (await self._serve(Draw(0, True, 1), tiers, prompts, asked))[0]
            spent_by_tier[0].append(probe)
        plan, why = self.choose(text, len(tiers), probe)
        if plan.max_tier >= len(tiers):
            plan, why = rule_plan(text, len(tiers)), {"by": "rules: the plan needs more tiers"}
        steps = run_plan(plan, calc_of(text))
        try:
            request = next(steps)
            while True:
                if probe is not None and request == Draw(0, True, 1):
                    samples, probe = [probe], None
                else:
                    samples = await self._serve(request, tiers, prompts, asked)
                    spent_by_tier[request.tier] += samples
                request = steps.send(samples)
        except StopIteration as stop:
            decision = stop.value
        result = self._result(plan, decision, tiers, spent_by_tier, time.perf_counter() - start)
        result.trace[0].update(why)
        return result

    async def _serve(
        self,
        request: Draw,
        tiers: Sequence[Backend],
        prompts: dict[bool, list[Message]],
        asked: Question,
    ) -> list[Sample]:
        """Draw what the cascade asked for; a program draw gets the program prompt and
        the plain prompt's budget (a program is short)."""
        o = self.options
        temperature = 0.0 if request.greedy else o.temperature
        model = tiers[request.tier].model
        params = sampling_for(model, o.max_tokens, temperature, request.program)
        samples = await draw(tiers[request.tier], prompts[request.program], params, request.n)
        annotate(samples, asked, request.program)
        return samples

    def _result(
        self,
        plan: Plan,
        decision: Decision,
        tiers: Sequence[Backend],
        spent_by_tier: Sequence[list[Sample]],
        wall_s: float,
    ) -> Result:
        usage, spent = Usage(wall_s=wall_s), Cost()
        for backend, mine in zip(tiers, spent_by_tier, strict=True):
            if mine:
                part = Usage.from_samples(mine)
                usage, spent = (
                    usage + part,
                    spent + cost.estimate(part, backend.model, backend.active_params),
                )
        usage.wall_s = wall_s
        chosen = next(
            (s for s in reversed(decision.samples) if s.answer == decision.answer),
            decision.samples[-1] if decision.samples else None,
        )
        return Result(
            answer=decision.answer,
            text=chosen.text if chosen else "",
            confidence=decision.confidence,
            strategy=self.name,
            samples=decision.samples,
            votes=decision.votes,
            usage=usage,
            cost=spent,
            trace=[
                {"step": "route", "plan": plan.name, "tiers": [b.name for b in tiers]},
                *decision.trace,
            ],
            model=tiers[decision.tier].model,
        )


log = logging.getLogger("ponder")


def tier_specs(tiers: str | None, uncached: str = "fetch") -> list[str]:
    """Tier specs separated by ``|`` or by ``+`` (which a shell leaves alone unquoted);
    ``ladder`` stands for the local ladder's models. With ``uncached="skip"`` a registry
    model that is not downloaded yet is left out, with a one-line notice."""
    text = (tiers or "").replace("|", "+")
    specs: list[str] = []
    for spec in (t.strip() for t in text.split("+")):
        if spec == "ladder":
            specs += [f"embedded:{name}" for name in models.LADDER]
        elif spec:
            specs.append(spec)
    if uncached == "skip":
        kept = [s for s in specs if not _uncached(s)]
        for spec in specs:
            if spec not in kept:
                log.warning("auto: tier %s is not downloaded; skipped (uncached=skip)", spec)
        return kept
    return specs


def _uncached(spec: str) -> bool:
    """True for an embedded registry model that is not in the cache yet."""
    scheme, target, _ = parse_spec(spec)
    name = target or models.DEFAULT_MODEL
    return scheme == "embedded" and name in models.REGISTRY and not models.is_cached(name)


def make_auto(options: dict[str, Any]) -> AutoStrategy:
    """``auto`` from its spec options; the ``tiers`` specs are loaded here, once."""
    o = AutoOptions.parse(options, "auto")
    specs = tier_specs(o.tiers, o.uncached)
    return AutoStrategy(o, tiers=[load_backend(spec) for spec in specs] if specs else None)
