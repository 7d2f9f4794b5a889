"""The router: per question, the plan (stages, budget, tiers) that is cheapest and right.

A router holds one logistic model per candidate plan that predicts P(plan is correct |
question features), each plan's cost in units of the direct baseline (one greedy
sample on tier 0), and a trade-off ``lam``. It picks the plan maximising
``P(correct) - lam * cost``; ``ponder.routing.calibrate`` sets ``lam`` so the average
cost hits a budget. The cost is per question where the plan has a cost model (a
log-linear fit on the features: a long word problem makes every sample longer, so the
same plan costs several times what it costs on a one-line sum), else the plan's mean.
Routers are plain JSON (no pickle), checked when loaded (``ponder.routing.router_file``).

A router with ``probe`` routes after one greedy draw has been made: tier 0's
step-by-step answer (``cot@0``) or a tier's program (``pot@1``: on word problems the
larger tier's program, right four times in five when its result is a whole number and
almost never when it is not). Its classifiers also read what that draw showed
(``probe_features``: mean log-probability, cut off or not, answered or not, length, a
whole number or not). The probe is paid for whatever plan follows; a plan that draws
the same greedy sample (``pot@1``, ``g+2@1 pot``, a ``check@1`` stage) reuses it.

A router's plan models read the standardised features as they are (``terms`` "linear")
or with their pairwise products added ("quadratic", ``ponder.routing.features.expand``),
the products standardised again over the training questions (``term_mean``,
``term_scale``).

A router knows where its training data lay (``support``, ``ponder.routing.support``): a
question far from every training question is one the classifiers never saw the like of,
so the router answers it with a safe plan (a probe that escalates when it abstains or
disagrees) instead of trusting them, and says how far it was (``route``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ponder.errors import ConfigError
from ponder.plans import Draw, Plan, describe_probe, parse_plan, probe_request
from ponder.routing.features import (
    FEATURES,
    PROBE_FEATURES,
    expand,
    features,
    probe_features,
)
from ponder.routing.support import Support
from ponder.types import Sample

FORMAT = "ponder-router"
VERSION = 1


@dataclass
class PlanModel:
    plan: Plan
    coef: list[float]
    intercept: float
    cost: float  # mean cost in units of the direct baseline
    cost_coef: list[float] | None = None  # log-cost on the standardised features, if fitted
    cost_intercept: float = 0.0
    cost_bounds: tuple[float, float] | None = None  # the log-costs seen in training

    def probability(self, x: Sequence[float]) -> float:
        z = self.intercept + sum(c * v for c, v in zip(self.coef, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def cost_for(self, z: Sequence[float]) -> float:
        """The plan's expected cost (x direct) on a question with standardised features
        ``z``: its log-linear cost model, kept within the log-costs seen in training; the
        mean cost when it has none."""
        if self.cost_coef is None:
            return self.cost
        log_cost = self.cost_intercept + sum(c * v for c, v in zip(self.cost_coef, z, strict=True))
        if self.cost_bounds is not None:
            log_cost = min(max(log_cost, self.cost_bounds[0]), self.cost_bounds[1])
        return math.exp(log_cost)

    def to_dict(self) -> dict[str, Any]:
        out = {
            **self.plan.to_dict(),
            "coef": self.coef,
            "intercept": self.intercept,
            "cost": self.cost,
        }
        if self.cost_coef is not None:
            out["cost_model"] = {
                "coef": self.cost_coef,
                "intercept": self.cost_intercept,
                "bounds": list(self.cost_bounds) if self.cost_bounds else None,
            }
        return out


@dataclass
class Router:
    plans: list[PlanModel]
    mean: list[float]
    scale: list[float]
    lam: float = 0.0
    calibration: list[dict[str, float]] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    support: Support | None = None  # where the training questions lay
    probe: str | None = None  # routes after this greedy draw (cot@0, pot@1), reading it
    text: bool = True  # the plan models read the question's text features (else the probe's)
    terms: str = "linear"  # or "quadratic": pairwise products of the features added
    term_mean: list[float] = field(default_factory=list)  # quadratic: the inputs' scaling
    term_scale: list[float] = field(default_factory=list)
    budget: float | None = None  # the average cost (x direct) lam was calibrated for

    def tier_map(self, live: Sequence[str]) -> list[int] | None:
        """Which of the ``live`` tiers (backend names, cheapest first) the router's own
        tiers are, by model name: a router trained on the 0.5B and 1.5B models finds them
        at 1 and 2 on the whole ladder. None when they are not all there in order (the
        router's tier numbers are then taken as the live ones)."""
        wanted = [_model_of(name) for name in self.tiers]
        have = [_model_of(name) for name in live]
        picked, start = [], 0
        for name in wanted:
            if name not in have[start:]:
                return None
            start = have.index(name, start) + 1
            picked.append(start - 1)
        return picked if picked and picked != list(range(len(picked))) else None

    def finds(self, live: Sequence[str]) -> bool:
        """True when every tier the router was trained on is among the ``live`` ones, in
        order (where ``tier_map`` puts them, or first)."""
        wanted = [_model_of(name) for name in self.tiers]
        have = [_model_of(name) for name in live]
        return bool(wanted) and (self.tier_map(live) is not None or have[: len(wanted)] == wanted)

    @property
    def probe_request(self) -> Draw | None:
        """The draw made before choosing (a probe router), or None."""
        return None if self.probe is None else probe_request(self.probe)

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*(FEATURES if self.text else ()), *(PROBE_FEATURES if self.probe else ()))

    def standardised(self, question: str, probe: Sample | None = None) -> list[float]:
        """The question's features (and the probe's), standardised as in training."""
        raw = features(question) if self.text else []
        if self.probe:
            if probe is None:
                raise ConfigError(
                    f"this router routes after a {describe_probe(self.probe)}: "
                    "pass the probe sample"
                )
            raw += probe_features(probe)
        return [(v - m) / s for v, m, s in zip(raw, self.mean, self.scale, strict=True)]

    def inputs(self, z: Sequence[float]) -> list[float]:
        """What the plan models read: ``z`` itself, or with its products, scaled again."""
        if self.terms == "linear":
            return list(z)
        inputs = expand(z, self.terms)
        return [
            (v - m) / s for v, m, s in zip(inputs, self.term_mean, self.term_scale, strict=True)
        ]

    def scores(
        self, question: str, tiers: int | None = None, probe: Sample | None = None
    ) -> list[tuple[PlanModel, float, float]]:
        """Each usable plan with its predicted probability of being right and its
        expected cost (x direct) on this question."""
        z = self.standardised(question, probe)
        x = self.inputs(z)
        usable = [p for p in self.plans if tiers is None or p.plan.max_tier < tiers]
        return [(p, p.probability(x), p.cost_for(z)) for p in usable]

    def outside(self, question: str) -> list[str]:
        """Why ``question`` lies outside the training data (``Support.outside``); empty
        when it does not, or when the router keeps no support."""
        if self.support is None:
            return []
        return self.support.outside(features(question))

    def route(
        self,
        question: str,
        tiers: int | None = None,
        lam: float | None = None,
        probe: Sample | None = None,
    ) -> tuple[Plan, dict[str, Any]]:
        """The plan, and why (``{"outside": [how far from the training data],
        "forecast": {"p_correct": ..., "cost": ...}}``, the forecast for the plan picked,
        cost x direct). A question outside the training data gets the safe plan;
        otherwise the plan maximising P(correct) - lam * cost among plans the tiers allow.
        A ``probe`` router needs ``probe``, the greedy sample on tier 0 already drawn."""
        why: dict[str, Any] = {}
        if self.support is not None:
            why["outside"] = self.outside(question)
            if why["outside"]:
                return self.safe(tiers or len(self.tiers) or 1), why
        lam = self.lam if lam is None else lam
        scored = self.scores(question, tiers, probe)
        if not scored:
            return rule_plan(question, tiers or 1), why
        import numpy as np  # here, not at import: the CLI starts without numpy

        from ponder.routing.calibrate import picks_at  # the rule calibration replays

        probs, costs = np.array([[p for _, p, _ in scored]]), np.array([[c for *_, c in scored]])
        model, p_correct, cost = scored[int(picks_at(probs, costs, lam)[0])]
        why["forecast"] = {"p_correct": round(p_correct, 4), "cost": round(cost, 4)}
        return model.plan, why

    def safe(self, tiers: int) -> Plan:
        """The plan for a question outside the training data: on two or more tiers the
        richest of ``SAFE_LADDER`` whose mean cost is within the budget (the cheapest
        when none is; the richest when the budget is not known)."""
        if tiers < 2 or self.budget is None:
            return safe_plan(tiers)
        cost = {p.plan.name: p.cost for p in self.plans}
        ladder = [name for name in SAFE_LADDER if name in cost]
        if not ladder:
            return safe_plan(tiers)
        fitting = [name for name in ladder if cost[name] <= self.budget]
        return parse_plan(fitting[-1] if fitting else ladder[0])

    def choose(
        self,
        question: str,
        tiers: int | None = None,
        lam: float | None = None,
        probe: Sample | None = None,
    ) -> Plan:
        """The plan ``route`` picks."""
        return self.route(question, tiers, lam, probe)[0]

    def with_budget(self, budget: float) -> Router:
        """The same router with ``lam`` read off its calibration table for ``budget``."""
        from ponder.routing.calibrate import lam_for_budget

        return replace(self, lam=lam_for_budget(self.calibration, budget), budget=budget)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "features": list(self.feature_names),
            "probe": self.probe,
            "text": self.text,
            "terms": self.terms,
            "mean": self.mean,
            "scale": self.scale,
            **(
                {"term_mean": self.term_mean, "term_scale": self.term_scale}
                if self.terms != "linear"
                else {}
            ),
            "lam": self.lam,
            "budget": self.budget,
            "tiers": self.tiers,
            "plans": [p.to_dict() for p in self.plans],
            "calibration": self.calibration,
            "meta": self.meta,
            "support": None if self.support is None else self.support.to_dict(),
        }

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


PLAN_RULES = ("cot@0", "g+2@0 > cot@1", "g+4@0")
SAFE_PLANS = ("g+2@0 > 6@0", "g+2@0 > 4+4@1 ~0.75")
"""For a question outside the router's data, on one tier and on two or more: greedy and
two votes, then six more votes (one tier) or a vote on the next tier when the three
abstain or disagree."""


def _model_of(spec: str) -> str:
    """The model a backend spec names, without scheme or options: ``embedded:x?threads=2``
    -> ``x``."""
    return spec.split(":", 1)[-1].split("?", 1)[0].split("#")[-1].strip().lower()


SAFE_LADDER = ("g+2@0 > cot@1", "g+2@0 > g+2@1", SAFE_PLANS[1])
"""The safe plans on two or more tiers, cheapest first: the probe escalates to one
greedy answer, to greedy and two votes, or to a vote of up to eight on tier 1. A router
that knows its budget gives an unfamiliar question the richest one whose mean cost
fits the budget (``Router.safe``), so such questions do not break it."""


def same_model(a: str, b: str) -> bool:
    """True when two tier names (backend names or specs) name the same model."""
    return _model_of(a) == _model_of(b)


def safe_plan(tiers: int) -> Plan:
    """The safe plan when nothing is known of the budget: the richest."""
    return parse_plan(SAFE_PLANS[0] if tiers < 2 else SAFE_PLANS[1])


def rule_plan(question: str, tiers: int) -> Plan:
    """Fallback without a trained router: one greedy sample for short, plain questions;
    otherwise greedy plus two votes on tier 0, escalating to tier 1 when they disagree."""
    x = dict(zip(FEATURES, features(question), strict=True))
    simple = x["numbers"] <= 2 and x["steps"] <= 1 and x["list_items"] == 0
    if simple:
        return parse_plan(PLAN_RULES[0])
    return parse_plan(PLAN_RULES[1] if tiers > 1 else PLAN_RULES[2])
