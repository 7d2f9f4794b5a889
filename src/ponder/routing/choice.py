"""How ``auto`` picks a plan for one question: a forced plan, the router (after its
probe for a probe router: a greedy answer or program), or the rules when there is no router, and
what the trace should say about the choice. The live strategy (``ponder.strategies.auto``)
and anything else that routes ask here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ponder.plans import Plan, describe_probe, parse_plan
from ponder.routing.features import PROBE_FEATURES, probe_features
from ponder.routing.router import PLAN_RULES, SAFE_PLANS, Router, rule_plan, same_model
from ponder.types import Sample


def choose_plan(
    question: str,
    tiers: int,
    forced: Plan | None,
    router: Router | None,
    probe: Sample | None = None,
) -> tuple[Plan, dict[str, Any]]:
    """The plan for ``question`` over ``tiers`` tiers, and why."""
    if forced is not None:
        return forced, {"by": "forced"}
    if router is None:
        return rule_plan(question, tiers), {"by": "rules"}
    plan, why = router.route(question, tiers, probe=probe)
    if why.get("outside"):
        return plan, {"by": "safe default: question outside the router's training data", **why}
    if probe is not None:
        seen = dict(zip(PROBE_FEATURES, probe_features(probe), strict=True))
        by = f"router, after a {describe_probe(router.probe or True)}"
        return plan, {"by": by, "probe": seen, **why}
    return plan, {"by": "router", **why}


def live_router(
    router: Router | None, shipped: Sequence[Router], names: Sequence[str]
) -> Router | None:
    """The first of the ``shipped`` routers (the ladder's, then its top tier's alone)
    whose tiers are live (among the tiers' ``names``, in order) and whose largest tier is
    the largest live one (a larger live tier is never left out), else ``router``."""
    for candidate in shipped if names else ():
        if candidate.finds(list(names)) and same_model(candidate.tiers[-1], names[-1]):
            return candidate
    return router


def possible_plans(forced: Plan | None, routers: Sequence[Router]) -> list[Plan]:
    """Every plan routing may choose: the forced one, or the routers' and the rules'."""
    if forced is not None:
        return [forced]
    plans = [p.plan for r in routers for p in r.plans]
    return plans + [parse_plan(rule) for rule in (*PLAN_RULES, *SAFE_PLANS)]
