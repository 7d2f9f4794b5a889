"""The ``auto`` strategy: route each question to a plan and run its cascade live.

    auto                                     shipped router, the given backend only
    auto:tiers=embedded:smollm2-135m|embedded:qwen2.5-coder-0.5b,cost_budget=3
    auto:tiers=ladder                        the three local models, smallest first
    auto:tiers=ladder,uncached=skip          only the ones already downloaded
    auto:router=router.json,plan=g+2@0 > cot@1
    auto:plan=g+2@0 pot > 8@0                programs first (program of thought), then votes

``solve(question, ladder)`` climbs the ladder it is given, as every strategy solves on
one (the proxy's ladder is the model then the operator's ``--tiers`` above it). Given
one backend (a ladder of one), it climbs to the strategy's own tiers above it, cheapest
first (a first tier that is that backend stands for it): backends
(``AutoStrategy(tiers=[...])``) or the specs of a ``tiers=`` option, fixed when the
strategy is built (``make_strategy``) and each loaded the first time a plan draws on it
(``ponder.strategies.tiers``): a question settled on tier 0 loads and downloads nothing
more. Plans that need a tier the ladder does not have are never chosen. The router is
given when the strategy is built (``router=``, an object or a file). ``tiers``,
``router`` and ``plan`` are operator settings: the proxy refuses them in a request.

``QUICK_PLAN`` over ``QUICK_TIERS`` is ``ponder ask``'s default (``quick_spec``): three
votes on the 0.5B model, and the 1.5B only when they split.

With a probe router (``Router.probe``) the strategy first draws the router's probe (one
greedy sample on tier 0, or a tier's greedy program), routes on the question and on what
the probe showed, and runs the plan; the probe is paid for either way, and a plan that
draws the same sample reuses it.
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field

from ponder import models
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.base import Backend
from ponder.budgets import CEILING
from ponder.cascade import Decision, Draw, Plan, parse_plan, run_plan
from ponder.errors import ConfigError
from ponder.routing.choice import choose_plan, live_router, possible_plans
from ponder.routing.router import Router, rule_plan
from ponder.routing.router_file import default_router, load_router, shipped_routers
from ponder.strategies.base import (
    COT_INSTRUCTION,
    BaseStrategy,
    Options,
    Work,
    annotate,
    draw,
    finish,
    objects,
    sampling_for,
    with_instruction,
)
from ponder.strategies.scored import Spent
from ponder.strategies.tiers import Ladder, Loader, Tier, tier_specs
from ponder.strategies.verifiers import calc_of
from ponder.types import Message, Question, Result, Sample

QUICK_TIERS = models.LADDER[1:]
"""``ponder ask``'s default tiers: Qwen2.5-Coder-0.5B, then Qwen2.5-Coder-1.5B. The 135M
model is left out by measurement: on the quick start's one-step sum its five votes split
in 20 of 20 runs (every run escalated), and on 18 SVAMP problems its greedy answer was
right on none (benchmarks/data/ladder/135m)."""
QUICK_PLAN = "g+2@0 > g+2+2@1 ~0.75"
"""``ponder ask``'s default plan: the greedy answer and two votes on the 0.5B model,
settled when all three agree; otherwise the greedy answer and two votes on the 1.5B
model (fetched then, once), two more when those three do not all agree."""


def quick_spec(threads: int | None = None) -> str:
    """``ponder ask``'s default strategy: ``QUICK_PLAN`` over ``QUICK_TIERS``, each
    embedded tier on ``threads`` llama.cpp threads when given."""
    option = f"?threads={threads}" if threads is not None else ""
    tiers = "+".join(f"embedded:{name}{option}" for name in QUICK_TIERS)
    return f"auto:tiers={tiers},plan={QUICK_PLAN}"


class AutoOptions(Options):
    renamed: ClassVar[dict[str, str]] = {"budget": "cost_budget"}  # until the next release
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
    cost_budget: float | None = Field(
        None, gt=0, description="average cost target, in multiples of a direct answer's"
    )
    plan: str | None = Field(None, description="force one plan, e.g. 'g+2@0 > cot@1'")
    temperature: float = Field(0.7, gt=0.0, le=5.0, description="temperature of votes")
    max_tokens: int | None = Field(
        None, ge=1, le=32768, description="completion budget per sample (default: the model's)"
    )


class AutoStrategy(BaseStrategy):
    name = "auto"

    def __init__(
        self,
        options: AutoOptions | None = None,
        router: Router | None = None,
        tiers: Sequence[Backend | Tier] | None = None,
    ) -> None:
        self.options = options or AutoOptions()
        self.tiers = None if tiers is None else [_tier(t) for t in tiers]
        o = self.options
        self.forced: Plan | None = parse_plan(o.plan) if o.plan else None
        self.router = router or (load_router(o.router) if o.router else default_router())
        shipped = router is None and not o.router
        self.shipped = shipped_routers() if shipped else []  # where their tiers are live
        if o.cost_budget is not None:
            self.router = self.router.with_budget(o.cost_budget) if self.router else None
            self.shipped = [r.with_budget(o.cost_budget) for r in self.shipped]

    def with_router(self, router: Router) -> AutoStrategy:
        """Deprecated: give the router when the strategy is built
        (``AutoStrategy(options, router=...)`` or ``make_strategy("auto", router=...)``)."""
        _deprecated("with_router(router)", "AutoStrategy(options, router=router)")
        return AutoStrategy(self.options, router=router, tiers=self.tiers)

    def with_tiers(self, tiers: Sequence[Backend | Tier]) -> AutoStrategy:
        """Deprecated: solve on a ladder (``solve(question, Ladder([backend, *tiers]))``)."""
        _deprecated("with_tiers(tiers)", "solve(question, Ladder([backend, *tiers]))")
        clone = copy.copy(self)
        clone.tiers = [_tier(t) for t in tiers]
        return clone

    def with_loader(self, load: Loader) -> AutoStrategy:
        """The same strategy loading its tiers not loaded yet with ``load`` (the CLI's
        fetches a registry model with a progress bar first)."""
        if self.tiers is None:
            return self
        clone = copy.copy(self)
        clone.tiers = [t.with_loader(load) for t in self.tiers]
        return clone

    def climb(self, ladder: Ladder) -> Ladder:
        """The tiers a question climbs: ``ladder``, or, when it is one backend, that
        backend then the strategy's own tiers (loaded when first used)."""
        if len(ladder) > 1:
            return ladder
        return ladder.above(self.tiers or ())

    def backends(self, backend: Backend) -> list[Tier]:
        """``backend`` as tier 0, then the strategy's tiers (loaded when first used)."""
        return list(self.climb(Ladder.of(backend)))

    def work(self) -> Work:
        """The largest plan this strategy may run, whatever the question."""
        routers = [r for r in (self.router, *self.shipped) if r is not None]
        plans = possible_plans(self.forced, routers)
        samples = max(plan.max_samples for plan in plans) + int(self.probes)
        return Work(samples, samples * (self.options.max_tokens or CEILING))

    @property
    def probes(self) -> bool:
        """True when the plan is chosen after a probe (a greedy answer or program)."""
        return self.forced is None and any(
            r is not None and r.probe for r in (self.router, *self.shipped)
        )

    def router_for(self, tiers: Sequence[Tier]) -> Router | None:
        """A shipped ladder router where its tiers are live (``tiers=ladder``, or the
        ladder's top model alone), else the strategy's router."""
        return live_router(self.router, self.shipped, [t.name for t in tiers])

    def choose(
        self,
        question: str,
        tiers: int,
        probe: Sample | None = None,
        router: Router | None = None,
    ) -> tuple[Plan, dict[str, Any]]:
        """The plan, and what the trace should say about the choice."""
        return choose_plan(question, tiers, self.forced, router or self.router, probe)

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        asked = question
        messages, text = list(asked.messages), asked.text
        tiers = list(self.climb(ladder))
        router = None if self.forced is not None else self.router_for(tiers)
        if router is not None:
            mapped = router.tier_map([t.name for t in tiers])
            tiers = [tiers[j] for j in mapped] if mapped else tiers
        prompts = {
            False: with_instruction(messages, COT_INSTRUCTION),
            True: with_instruction(messages, PROGRAM_INSTRUCTION),
        }
        spent_by_tier: list[list[Sample]] = [[] for _ in tiers]
        probe = None
        probing = None if router is None else router.probe_request
        if probing is not None and probing.tier < len(tiers):  # paid for; reused by a plan
            probe = (await self._serve(probing, tiers, prompts, asked))[0]
            spent_by_tier[probing.tier].append(probe)
        if probing is not None and probe is None:  # the probe's tier is not live
            plan, why = rule_plan(text, len(tiers)), {"by": "rules: the probe needs more tiers"}
        else:
            plan, why = self.choose(text, len(tiers), probe, router)
        if plan.max_tier >= len(tiers):
            plan, why = rule_plan(text, len(tiers)), {"by": "rules: the plan needs more tiers"}
        # the probe is paid for: the cascade reuses it and counts its vote
        held = (probing, probe) if probing is not None and probe is not None else None
        steps = run_plan(plan, calc_of(text), held)
        try:
            request = next(steps)
            while True:
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
        tiers: Sequence[Tier],
        prompts: dict[bool, list[Message]],
        asked: Question,
    ) -> list[Sample]:
        """Draw what the cascade asked for, loading the tier on its first use; a program
        draw gets the program prompt and the plain prompt's budget (a program is short)."""
        o = self.options
        temperature = 0.0 if request.greedy else o.temperature
        backend = await tiers[request.tier].backend()
        params = sampling_for(backend.model, o.max_tokens, temperature, request.program)
        samples = await draw(backend, prompts[request.program], params, request.n)
        annotate(samples, asked, request.program)
        return samples

    def _result(
        self,
        plan: Plan,
        decision: Decision,
        tiers: Sequence[Tier],
        spent_by_tier: Sequence[list[Sample]],
        wall_s: float,
    ) -> Result:
        drawn = [
            Spent.of(f"tier {i}", tier.current, mine)
            for i, (tier, mine) in enumerate(zip(tiers, spent_by_tier, strict=True))
            if mine and tier.current is not None  # loaded: it spent something
        ]
        chosen = next(
            (s for s in reversed(decision.samples) if s.answer == decision.answer),
            decision.samples[-1] if decision.samples else None,
        )
        route = {
            "step": "route",
            "plan": plan.name,
            "tiers": [t.name for t in tiers],
            "models": [t.label for t in tiers],
        }
        return finish(
            strategy=self.name,
            samples=decision.samples,
            chosen=chosen,
            answer=decision.answer,
            confidence=decision.confidence,
            votes=decision.votes,
            wall_s=wall_s,
            trace=[route, *decision.trace],
            backend=tiers[0].current,  # nothing drawn: nothing spent
            drawn=drawn,
            model=tiers[decision.tier].label,
        )


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"AutoStrategy.{old} is deprecated and goes in the next release: {new}",
        DeprecationWarning,
        stacklevel=3,
    )


def _tier(tier: Backend | Tier) -> Tier:
    return tier if isinstance(tier, Tier) else Tier.of(tier)


def make_auto(options: dict[str, Any]) -> AutoStrategy:
    """``auto`` from its spec options; each of the ``tiers`` specs is loaded when a plan
    first draws on it. ``router`` is a file, or a ``Router`` already loaded (the proxy's,
    ``make_strategy("auto", router=router)``)."""
    rest, found = objects(options, "router")
    router = found.get("router")
    if router is not None and not isinstance(router, Router):
        raise ConfigError(f"auto's router must be a file or a Router, not {router!r:.60}")
    o = AutoOptions.parse(rest, "auto")
    specs = tier_specs(o.tiers, o.uncached)
    tiers = [Tier(spec) for spec in specs] if specs else None
    return AutoStrategy(o, router=router, tiers=tiers)
