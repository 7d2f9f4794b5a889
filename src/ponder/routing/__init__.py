"""Adaptive routing as a library: question features, the per-plan router, the
confidence cascade and budget calibration. The ``auto`` strategy that runs it lives in
``ponder.strategies.auto``; training a router from stored samples lives in
``ponder.eval.train_router``.

    question -> features -> Router.choose -> Plan (stages over model tiers)
             -> run_plan cascade (vote, draw more, escalate) -> Decision
             -> explain(result.trace): one line on what each tier spent and why
"""

from __future__ import annotations

from ponder.routing.cascade import Decision, Draw, Plan, Stage, parse_plan, run_plan
from ponder.routing.explain import explain
from ponder.routing.features import FEATURES, features
from ponder.routing.router import Router, rule_plan
from ponder.routing.router_file import default_router, load_router, router_from_dict

__all__ = [
    "FEATURES",
    "Decision",
    "Draw",
    "Plan",
    "Router",
    "Stage",
    "default_router",
    "explain",
    "features",
    "load_router",
    "parse_plan",
    "router_from_dict",
    "rule_plan",
    "run_plan",
]
