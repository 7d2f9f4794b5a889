"""benchmarks/ladder.py run the way a user runs it, on a small synthetic two-tier run:
progress while it replays, wall seconds at the given paces, one-line errors."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ponder.eval.pools import load_pools
from ponder.eval.replay import Point
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore, read_records
from ponder.eval.synthetic import synthetic_items, two_tier_backends
from ponder.routing.training import train_router

LADDER = Path(__file__).parents[2] / "benchmarks" / "ladder.py"
sys.path.insert(0, str(LADDER.parent))  # ladder.py imports router.py beside it
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
        (["--reps", "0"], "--reps must be at least 1"),
        (["--cv-repeats", "0"], "--cv-repeats must be at least 1"),
        (["--folds", "1"], "--folds must be at least 2"),
    ],
)
def test_bad_options_stop_in_one_line(run_dir, args, message):
    done = ladder(str(run_dir), "--reps", "2", *args)  # a later flag overrides this one
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> tuple[Path, Path, Path]:
    """(every item's run, a run of the even items only, a router trained on those)."""
    items = synthetic_items(per_level=4)
    root = tmp_path_factory.mktemp("held")
    stores = SampleStore(root / "all"), SampleStore(root / "train")
    for store, chosen in zip(stores, (items, items[::2]), strict=True):
        for backend in reversed(two_tier_backends(items)):
            asyncio.run(run_eval(chosen, backend, ["sample:n=4"], store, model=backend.name))
    pools = load_pools(read_records(stores[1].directory))
    router = train_router(pools, budget=2.0, reps=2, unit="flops")
    path = root / "router.json"
    router.save(path)
    return stores[0].directory, stores[1].directory, path


def test_a_router_file_replays_on_the_items_it_was_not_trained_on(held_out):
    everything, trained, router = held_out
    done = ladder(
        str(everything), "--exclude", str(trained), "--router", str(router), "--no-cv", *FAST
    )
    assert done.returncode == 0, done.stderr
    assert "8 items" in done.stdout.splitlines()[0]  # 16 stored, the 8 it trained on left out
    assert "auto[" not in done.stdout + done.stderr  # --no-cv: the file alone
    assert any(line.split()[:1] == ["router@50%"] for line in done.stdout.splitlines())
    assert (
        "  router@50%: " in done.stdout and "of the best fixed strategy's accuracy" in done.stdout
    )
    assert "router@50% picked:" in done.stdout


def test_a_router_file_for_other_tiers_or_an_exclusion_of_everything_stops_in_one_line(
    held_out, tmp_path
):
    everything, _, router = held_out
    data = json.loads(router.read_text(encoding="utf-8"))
    data["tiers"] = ["embedded:qwen2.5-coder-0.5b", "embedded:qwen2.5-coder-1.5b"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    cases = [
        (["--router", str(other)], "was trained on tiers"),
        (["--router", str(tmp_path / "missing.json")], "missing.json"),
        (["--exclude", str(everything)], "--exclude leaves no items"),
        (["--exclude", str(tmp_path / "nowhere")], "nowhere"),
    ]
    for args, message in cases:
        done = ladder(str(everything), *FAST, "--no-cv", *args)
        assert done.returncode != 0, args
        assert message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_router_file_trained_on_the_top_tier_alone_replays_on_that_tier(held_out, tmp_path):
    everything, trained, _ = held_out
    pools = load_pools(read_records(trained)).reorder(["large"])
    path = tmp_path / "top.json"
    train_router(pools, budget=2.0, reps=2, unit="flops").save(path)
    done = ladder(
        str(everything), "--exclude", str(trained), "--router", str(path), "--no-cv", *FAST
    )
    assert done.returncode == 0, done.stderr
    picked = next(line for line in done.stdout.splitlines() if "top@50% picked:" in line)
    assert "@0" in picked and "@1" not in picked  # tier 0 of its own: the large model
    row = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["top@50%"])
    cot_large = next(line for line in done.stdout.splitlines() if line.split()[:1] == ["cot@large"])
    assert float(row.split()[4]) >= float(cot_large.split()[4]) * 0.99  # FLOPs of the large one


def test_exclude_reads_a_folder_of_record_files_beside_an_item_list(held_out, tmp_path):
    """The shipped data folder holds the item lists beside the exported runs: --exclude
    on it leaves out the runs' items and reads past the lists."""
    everything, trained, router = held_out
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.jsonl").write_text(
        (trained / "records.jsonl").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "items-96.jsonl").write_text(
        json.dumps({"id": "syn-l1-0", "question": "1 + 1?", "answer": "2"}) + "\n",
        encoding="utf-8",
    )
    done = ladder(
        str(everything), "--exclude", str(folder), "--router", str(router), "--no-cv", *FAST
    )
    assert done.returncode == 0, done.stderr
    assert "8 items" in done.stdout.splitlines()[0]


def _point(name: str, accuracy: float, flops: float) -> Point:
    return Point(name, accuracy, accuracy, accuracy, 1.0, 1.0, flops, 1.0)


def test_the_headline_targets_are_judged_to_two_decimals_within_their_flops_caps():
    import ladder

    best = _point("best", 0.8075, 100.0)
    autos = [
        _point("auto@20%", 0.748, 19.4),
        _point("auto@40%", 0.797, 41.1),  # within a point, but past the 40% cap
        _point("auto@38%", 0.7965, 38.0),
    ]
    first, second = ladder.targets(autos, best)
    assert first.startswith("  target, at least 90%") and ": met (auto@20%: 92.63% of it" in first
    assert ": missed (auto@38%: 98.64% of it, -1.10 points, at 38.00% of its FLOPs)" in second
    met = ladder.targets([*autos, _point("auto@39%", 0.799, 39.9)], best)[1]
    assert ": met (auto@39%" in met
    assert "no auto point spends 20% or less" in ladder.targets(autos[1:], best)[0]


def test_a_run_prints_its_verdict_on_both_targets(run_dir):
    done = ladder(str(run_dir), *FAST)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("  target, ")]
    assert len(lines) == 2 and all((" met " in x or "missed" in x or "no auto" in x) for x in lines)


def test_ladder_plans_runs_each_catalogue_plan_for_all_items_and_marks_the_frontier(
    held_out, tmp_path
):
    everything, _, router = held_out
    plans = LADDER.parent / "ladder_plans.py"
    done = subprocess.run(
        [sys.executable, str(plans), str(everything), "--router", str(router), "--reps", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    catalogue = json.loads(router.read_text(encoding="utf-8"))["plans"]
    rows = [line for line in done.stdout.splitlines()[2:] if line.strip()]
    assert len(rows) == len(catalogue)  # one row per plan, cheapest first
    shares = [float(line[45:].split()[1]) for line in rows]
    assert shares == sorted(shares)
    front, best = [], -1.0
    for line in rows:  # a star where a plan beats every cheaper one
        accuracy = float(line[45:].split()[0])
        assert (line[0] == "*") == (accuracy > best)
        front.append(line[0] == "*")
        best = max(best, accuracy)
    assert front[0] and "no probe" in done.stdout.splitlines()[0]
    bad = subprocess.run(
        [sys.executable, str(plans), str(everything), "--router", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0 and "none.json" in bad.stderr and "Traceback" not in bad.stderr
