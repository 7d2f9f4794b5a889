"""Evaluation harness: datasets and built-in suites, a resumable runner that stores every
sample, offline replay of any strategy or router from stored samples, and reports.

    items = suite_items("arith,count", per_level=20)
    await run_eval(items, backend, ["sample:n=16"], SampleStore("runs/x"))
    pools = load_pools(read_records("runs/x"))
    points = replay(pools, standard_evaluators(pools))

``ponder eval run`` is ``select_items``, ``check_specs`` and ``open_run`` (the directory
locked and claimed, the model loaded) around the same run (``ponder.eval.session``).
"""

from __future__ import annotations

from ponder.eval.datasets import Item, load_jsonl, write_jsonl
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import Point, pareto, replay, standard_evaluators
from ponder.eval.runner import RunSpec, RunSummary, check_specs, run_eval
from ponder.eval.session import EvalRun, open_run, select_items
from ponder.eval.store import Record, SampleStore, read_records
from ponder.eval.suites import SUITES, suite_items

__all__ = [
    "SUITES",
    "EvalRun",
    "Item",
    "Point",
    "Pools",
    "Record",
    "RunSpec",
    "RunSummary",
    "SampleStore",
    "check_specs",
    "load_jsonl",
    "load_pools",
    "open_run",
    "pareto",
    "read_records",
    "replay",
    "run_eval",
    "select_items",
    "standard_evaluators",
    "suite_items",
    "write_jsonl",
]
