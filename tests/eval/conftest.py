import asyncio

import pytest

from ponder.eval.pools import load_pools
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.synthetic import synthetic_items, two_tier_backends


@pytest.fixture(scope="package")
def world(tmp_path_factory):
    """Two synthetic tiers' stored samples (8 a question, 16 questions): the pools, the
    store and the backends (small, large)."""
    items = synthetic_items(per_level=4)
    small, large = two_tier_backends(items)
    store = SampleStore(tmp_path_factory.mktemp("run"))
    for backend in (large, small):
        asyncio.run(run_eval(items, backend, ["sample:n=8"], store, model=backend.name))
    return load_pools(store.records()), store, (small, large)
