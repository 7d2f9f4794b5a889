"""Adaptive routing: features, per-plan classifiers, the confidence cascade, budget
calibration, and the ``auto`` strategy (registered here, at import).

    question -> features -> Router.choose -> Plan (stages over model tiers)
             -> run_plan cascade (vote, draw more, escalate) -> Result
"""

from __future__ import annotations

from ponder.routing.cascade import Decision, Draw, Plan, Stage, parse_plan, run_plan
from ponder.routing.features import FEATURES, features
from ponder.routing.router import Router, default_router, load_router, router_from_dict, rule_plan
from ponder.routing.strategy import AutoOptions, AutoStrategy, make_auto
from ponder.strategies import register_strategy

register_strategy("auto", make_auto, AutoOptions)

__all__ = [
    "FEATURES",
    "AutoOptions",
    "AutoStrategy",
    "Decision",
    "Draw",
    "Plan",
    "Router",
    "Stage",
    "default_router",
    "features",
    "load_router",
    "parse_plan",
    "router_from_dict",
    "rule_plan",
    "run_plan",
]
