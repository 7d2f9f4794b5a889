"""Evaluation harness: datasets and built-in suites, a resumable runner that stores every
sample, offline replay of any strategy or router from stored samples, and reports.

    items = suite_items("arith,count", per_level=20)
    await run_eval(items, backend, ["sample:n=16"], SampleStore("runs/x"))
    pools = load_pools(read_records("runs/x"))
    points = replay(pools, standard_evaluators(pools))

``ponder eval run`` is ``select_items``, ``check_specs`` and ``open_run`` (the directory
locked and claimed, the model loaded) around the same run (``ponder.eval.session``).

Routing (``ponder.routing``: training, its plan catalogue, the router against fixed
strategies) reads stored pools through these names only: ``Pools`` and ``load_pools``;
``replay`` with an ``Evaluator`` per strategy (``standard_evaluators``,
``plan_evaluator``) giving an ``Outcome`` per item and a ``Point`` per strategy; and, to
replay a router, ``PoolBackend`` (one item's stored samples served as a backend),
``probe_draw``, ``run_on_pools`` and ``grade``.
"""

from __future__ import annotations

from ponder.eval.datasets import Item, load_jsonl, write_jsonl
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import (
    PROBE_DRAW,
    Evaluator,
    Outcome,
    Point,
    PoolBackend,
    grade,
    pareto,
    plan_evaluator,
    probe_draw,
    replay,
    run_on_pools,
    standard_evaluators,
)
from ponder.eval.runner import RunSpec, RunSummary, check_specs, run_eval
from ponder.eval.session import EvalRun, open_run, select_items
from ponder.eval.store import Record, SampleStore, read_records
from ponder.eval.suites import SUITES, suite_items

__all__ = [
    "PROBE_DRAW",
    "SUITES",
    "EvalRun",
    "Evaluator",
    "Item",
    "Outcome",
    "Point",
    "PoolBackend",
    "Pools",
    "Record",
    "RunSpec",
    "RunSummary",
    "SampleStore",
    "check_specs",
    "grade",
    "load_jsonl",
    "load_pools",
    "open_run",
    "pareto",
    "plan_evaluator",
    "probe_draw",
    "read_records",
    "replay",
    "run_eval",
    "run_on_pools",
    "select_items",
    "standard_evaluators",
    "suite_items",
    "write_jsonl",
]
