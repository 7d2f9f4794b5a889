"""benchmarks/router.py run the way a user runs it: counts below their floor stop in one
line that names the flag, before anything is replayed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.synthetic import synthetic_items, two_tier_backends

ROUTER = Path(__file__).parents[2] / "benchmarks" / "router.py"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    items = synthetic_items(per_level=2)
    store = SampleStore(tmp_path_factory.mktemp("router") / "run")
    for backend in reversed(two_tier_backends(items)):
        asyncio.run(run_eval(items, backend, ["sample:n=4"], store, model=backend.name))
    return store.directory


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reps", "0"], "--reps must be at least 1"),
        (["--cv-repeats", "0"], "--cv-repeats must be at least 1"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--share", "0"], "--share must be a positive share"),
        (["--share", "-0.4"], "--share must be a positive share"),
    ],
)
def test_bad_counts_stop_in_one_line(run_dir, args, message):
    done = subprocess.run(
        [sys.executable, str(ROUTER), str(run_dir), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""  # stopped before replaying anything


def router(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROUTER), str(run_dir), "--quick", "--reps", "1", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_without_programs_replays_and_says_the_shipped_router_is_left_out(run_dir):
    done = router(run_dir, "--folds", "2")  # the shipped router may pick programs
    assert done.returncode == 0, done.stderr
    assert "items; tiers:" in done.stdout
    assert "shipped: left out: item" in done.stdout and "no program samples" in done.stdout


def test_a_probe_the_runs_lack_stops_in_one_line(run_dir):
    done = router(run_dir, "--probe", "pot@1")
    assert done.returncode == 1
    assert done.stderr.startswith("router.py: item") and "no program samples" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_headline_counts_cost_in_the_unit_the_budget_counts(run_dir):
    done = router(run_dir, "--folds", "2", "--quick", "--unit", "flops")
    assert done.returncode == 0, done.stderr
    assert "at" in done.stdout and "% of its flops" in done.stdout
    assert "% of best's flops" in done.stdout and "% of its cost" not in done.stdout
    done = router(run_dir, "--folds", "2", "--quick")
    assert "% of its cost" in done.stdout and "% of best's dollars" in done.stdout
