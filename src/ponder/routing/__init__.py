"""Adaptive routing in one package: question features, the catalogue of plans
(``catalogue``; plans themselves, ``Plan`` and ``run_plan``, are ``ponder.cascade``'s,
which replay in ``ponder.eval`` runs too, and are re-exported here), the per-plan
router and its file (``router``, ``router_file``), training from stored samples
(``training``, ``fitting``), budget calibration (``calibrate``), and the router against
fixed strategies (``compare``). The ``auto`` strategy runs it live
(``ponder.strategies.auto``); training reads stored pools through ``ponder.eval``'s public
names, and is imported as ``ponder.routing.training`` (not here: importing the router
loads no stored runs). Nothing in ``ponder.eval`` imports this package.

    question -> features -> Router.choose -> Plan (stages over model tiers)
             -> run_plan cascade (vote, draw more, escalate) -> Decision
             -> explain(result.trace): one line on what each tier spent and why
"""

from __future__ import annotations

from ponder.cascade import Decision, Draw, Plan, Stage, parse_plan, run_plan
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
