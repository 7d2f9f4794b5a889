"""Wall seconds in replay: a tier's pace turns each replayed request into seconds on the
machine the pace was measured on (benchmarks/ladder.py's wall column)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ponder.cascade import parse_plan
from ponder.errors import DataError
from ponder.eval.pools import Pace, spend
from ponder.eval.replay import plan_evaluator, replay

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def pools(world):
    return world[0]


def test_a_request_decodes_until_its_longest_sample_ends_its_batch_shrinking():
    pace = Pace(prefill_tok_s=100.0, step_s_1=0.1, step_s_8=0.8)
    assert pace.step_s(2) == pytest.approx(0.2)
    # 100 prompt tokens: 1 s; 10 steps with two sequences, then 20 with one
    assert pace.seconds(100, [30, 10]) == pytest.approx(1.0 + 10 * 0.2 + 20 * 0.1)
    assert pace.seconds(0, []) == 0.0


def test_bad_paces_are_data_errors():
    with pytest.raises(DataError, match="positive"):
        Pace(0.0, 0.1, 0.8)
    with pytest.raises(DataError, match="step_s_8"):
        Pace.from_dict({"prefill_tok_s": 100, "step_s_1": 0.1})
    with pytest.raises(DataError, match="prefill_tok_s"):
        Pace.from_dict({"prefill_tok_s": "fast", "step_s_1": 0.1, "step_s_8": 0.8})


def test_spend_times_a_request_at_its_tiers_pace_and_a_cached_prompt_is_free(pools):
    paced = pools.paced({"small": Pace(50.0, 0.05, 0.2), "large": Pace(20.0, 0.1, 0.5)})
    tier = paced.tiers[0]
    wave = paced.pool(0, next(iter(paced.items))).sampled[:4]
    lengths = [s.completion_tokens for s in wave]
    got = spend(tier, wave)
    assert got.seconds == pytest.approx(tier.pace.seconds(wave[0].prompt_tokens, lengths))
    assert got.seconds > 0
    cached = [type(s)(**{**s.__dict__, "cached_tokens": s.prompt_tokens}) for s in wave]
    assert spend(tier, cached).seconds == pytest.approx(tier.pace.seconds(0, lengths))
    assert spend(pools.tiers[0], wave).seconds == 0.0  # no pace: no seconds


def test_replay_reports_seconds_per_item_only_for_paced_tiers(pools):
    plan = {"cot@1": plan_evaluator(parse_plan("cot@1"))}
    [bare] = replay(pools, plan, reps=2)
    assert bare.seconds == 0.0
    pace = Pace(100.0, 0.1, 0.4)
    [timed] = replay(pools.paced({"small": pace, "large": pace, "huge": pace}), plan, reps=2)
    assert timed.seconds > 0 and timed.flops == bare.flops
    assert set(timed.extra["seconds_by_group"]) == set(timed.by_group)
    with pytest.raises(DataError, match="no pace for tier 'small'"):
        pools.paced({"large": pace})  # seconds on one tier only would undercount


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read paces"),
        ("{not json", "cannot read paces"),
        (json.dumps({"tiers": {"qwen2.5-coder-1.5b": {"step_s_1": 0.1}}}), "prefill_tok_s"),
        (
            json.dumps({"tiers": {"gpt-9": {"prefill_tok_s": 1, "step_s_1": 1, "step_s_8": 2}}}),
            "no pace for tier",
        ),
    ],
)
def test_ladder_py_names_a_bad_pace_file_in_one_line(tmp_path, content, message):
    path = tmp_path / "pace.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ladder.py"), "--pace", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode != 0
    assert message in done.stderr and "Traceback" not in done.stderr
    assert str(path) in done.stderr
