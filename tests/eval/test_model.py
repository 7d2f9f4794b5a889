"""One small real-model run: two easy items on the embedded default model."""

import asyncio

import pytest

from ponder.eval.pools import load_pools
from ponder.eval.replay import replay, standard_evaluators
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.suites import suite_items

pytestmark = pytest.mark.model


def test_sampling_run_and_auto_on_the_embedded_model(embedded, tmp_path):
    items = suite_items("arith", per_level=2, levels=[1])
    store = SampleStore(tmp_path)
    specs = ["sample:n=2,max_tokens=24", "auto:max_tokens=24"]
    summary = asyncio.run(run_eval(items, embedded, specs, store, model="smollm2"))
    assert (summary.finished, summary.failed) == (4, 0)
    records = store.records()
    pooled = [r for r in records if r["strategy"].startswith("sample")]
    for record in pooled:
        assert len(record["samples"]) == 3
        assert all(s["completion_tokens"] > 0 and s["latency_s"] > 0 for s in record["samples"])
    auto = [r for r in records if r["strategy"].startswith("auto")]
    assert all(r["trace"][0]["step"] == "route" for r in auto)
    pools = load_pools(records)
    points = replay(pools, standard_evaluators(pools), reps=2)
    assert {p.name for p in points} == {
        "cot@smollm2-135m",
        "sc:n=1@smollm2-135m",
        "sc:n=2@smollm2-135m",
    }
