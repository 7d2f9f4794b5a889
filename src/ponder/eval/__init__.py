"""Evaluation harness: datasets and built-in suites, a resumable runner that stores every
sample, offline replay of any strategy or router from stored samples, and reports.

    items = suite_items("arith,count", per_level=20)
    await run_eval(items, backend, ["sample:n=16"], SampleStore("runs/x"))
    pools = load_pools(read_records("runs/x"))
    points = replay(pools, standard_evaluators(pools))
"""

from __future__ import annotations

from ponder.eval.datasets import Item, load_jsonl, write_jsonl
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import Point, pareto, replay, standard_evaluators
from ponder.eval.runner import RunSummary, run_eval
from ponder.eval.store import SampleStore, read_records
from ponder.eval.suites import SUITES, suite_items

__all__ = [
    "SUITES",
    "Item",
    "Point",
    "Pools",
    "RunSummary",
    "SampleStore",
    "load_jsonl",
    "load_pools",
    "pareto",
    "read_records",
    "replay",
    "run_eval",
    "standard_evaluators",
    "suite_items",
    "write_jsonl",
]
