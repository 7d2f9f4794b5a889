"""benchmarks/ladder.py run the way a user runs it, on a small synthetic two-tier run:
progress while it replays, wall seconds at the given paces, one-line errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.synthetic import synthetic_items, two_tier_backends

LADDER = Path(__file__).parents[2] / "benchmarks" / "ladder.py"
FAST = ["--reps", "2", "--folds", "2", "--shares", "0.5"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    items = synthetic_items(per_level=4)
    store = SampleStore(tmp_path_factory.mktemp("ladder") / "run")
    for backend in reversed(two_tier_backends(items)):
        asyncio.run(run_eval(items, backend, ["sample:n=4"], store, model=backend.name))
    return store.directory


def wall(stdout: str, name: str) -> str:
    """The wall-seconds cell of strategy ``name``'s row (the one before the FLOPs share)."""
    row = next(line for line in stdout.splitlines() if line.split()[:1] == [name])
    return row.removesuffix(" *").split()[-2]


def ladder(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(LADDER), *args], capture_output=True, text=True, timeout=120
    )


def test_wall_seconds_come_beside_flops_at_the_given_paces(run_dir, tmp_path):
    pace = {"prefill_tok_s": 100.0, "step_s_1": 0.05, "step_s_8": 0.2}
    path = tmp_path / "pace.json"
    path.write_text(json.dumps({"tiers": {"small": pace, "large": pace}}), encoding="utf-8")
    done = ladder(str(run_dir), *FAST, "--pace", str(path))
    assert done.returncode == 0, done.stderr
    assert "replaying the fixed strategies" in done.stderr  # progress while it replays
    assert "auto[2 tiers]@50%:" in done.stderr
    assert float(wall(done.stdout, "cot@large")) > 0
    assert "s a question against its" in done.stdout


def test_without_paces_for_its_tiers_the_run_leaves_wall_seconds_out_and_says_so(run_dir):
    done = ladder(str(run_dir), *FAST)  # the shipped pace file names the Qwen tiers only
    assert done.returncode == 0, done.stderr
    assert "wall seconds left out" in done.stderr and "no pace for tier" in done.stderr
    assert wall(done.stdout, "cot@large") == "-"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shares", "0.2,x"], "--shares takes comma-separated numbers"),
        (["--shares", "0,0.4"], "--shares must be positive"),
        (["--l2", "strong"], "--l2 takes a positive number or cv"),
    ],
)
def test_bad_options_stop_in_one_line(run_dir, args, message):
    done = ladder(str(run_dir), "--reps", "2", *args)
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
