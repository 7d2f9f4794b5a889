"""The pure parts of benchmarks/peers.py and benchmarks/engine_limit.py: the answer
rule, the upstream's counters, the summaries, the arms and the argument errors. No
server or model is started here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import engine_limit  # noqa: E402
import peers  # noqa: E402
from peerslib.score import (  # noqa: E402
    LADDER,
    Arm,
    ArmError,
    best_within,
    is_right,
    make_arms,
    parse_metrics,
    parse_strategy,
    read_answer,
    spend_between,
    summarise,
)

from ponder.server.metrics import Metrics  # noqa: E402


@pytest.mark.parametrize(
    ("text", "answer", "how"),
    [
        ("3 + 4 = 7. Answer: 7", "7", "extract"),
        ("So she has 12 - 5 = 7 left.\n#### 7", "7", "extract"),
        ("```python\napples = 12\nanswer = apples - 5\n```", "7", "program"),
        ("<thinking>12 - 5</thinking>\n<output>The answer is 7.</output>", "7", "extract"),
    ],
)
def test_one_rule_reads_prose_markers_tags_and_programs(text: str, answer: str, how: str) -> None:
    reading = read_answer(text)
    assert (reading.answer, reading.how, reading.defeat) == (answer, how, None)


def test_tags_are_noted_and_unreadable_replies_say_why() -> None:
    assert read_answer("<output>The answer is 7.</output>").note == "tags"
    assert read_answer("I cannot say.").defeat == "no number in the reply"
    assert read_answer("").defeat == "empty reply"
    assert read_answer(None).defeat == "empty reply"
    truncated = "Error: Response was truncated due to token limit. Please increase max_tokens."
    assert read_answer(truncated).defeat == "the proxy's own error text"
    assert read_answer("No consistent answer found.").answer is None


def test_a_program_the_reader_cannot_evaluate_is_read_as_text_and_noted() -> None:
    text = "```python\nimport math\nprint(math.floor(7.5))\n```\nThe answer is 7."
    reading = read_answer(text)
    assert (reading.answer, reading.how) == ("7", "extract")
    assert reading.note is not None and "not evaluable" in reading.note
    code = "```python\ndef weeks(total, weekly):\n    return total // weekly\n"
    code += "print(weeks(178, 2))\n```"
    assert read_answer(code).defeat == "a program the reader cannot evaluate"  # not "2"


def test_gold_numbers_match_numerically() -> None:
    assert is_right("89.0", "89") and is_right("1,200", "1200")
    assert not is_right("88", "89") and not is_right(None, "89")


def _exposition(prompt: int, completion: int, requests: int) -> str:
    """What the upstream's /metrics says after these pass-through requests."""
    metrics = Metrics(["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    for _ in range(requests):
        metrics.observe_request("/v1/chat/completions", "qwen2.5-coder-0.5b", None, 200, 0.1)
        metrics.observe_usage("qwen2.5-coder-0.5b", None, prompt, completion)
    metrics.observe_request("/metrics", None, None, 200, 0.01)  # not a chat request
    return metrics.render().decode()


def test_the_upstreams_counters_give_tokens_requests_and_flops_in_between() -> None:
    before = parse_metrics(_exposition(30, 100, 1))
    after = parse_metrics(_exposition(30, 100, 4))
    spend = spend_between(before, after)
    assert (spend.prompt_tokens, spend.completion_tokens, spend.requests) == (90, 300, 3)
    assert spend.flops({"qwen2.5-coder-0.5b": 5e8}) == pytest.approx(2 * 5e8 * 390)
    assert spend_between(after, after).requests == 0


def _row(item: str, correct: bool, total: int, **extra: object) -> dict[str, object]:
    return {
        "item": item,
        "correct": correct,
        "prompt_tokens": 10,
        "completion_tokens": total - 10,
        "flops": 2.0 * total,
        "requests": 2,
        "wall_s": 1.5,
        "text": "x",
        **extra,
    }


def test_a_summary_counts_errors_and_unreadable_replies_apart_with_examples() -> None:
    arm = Arm("optillm", "moa", "0.5b")
    rows = [
        _row("a", True, 110),
        _row("b", False, 90, defeat="no number in the reply"),
        _row("c", False, 100, error="HTTP 500: boom", defeat=None),
        _row("d", True, 100),
    ]
    s = summarise(arm, rows, reps=200)
    assert (s.items, s.accuracy, s.errors, s.defeats) == (4, 0.5, 1, 1)
    assert s.low <= 0.5 <= s.high
    assert (s.total, s.completion, s.requests, s.wall_s) == (100, 90, 2, 1.5)
    assert len(s.examples) == 2 and "no number" in s.examples[0] and "HTTP 500" in s.examples[1]
    with pytest.raises(ArmError):
        summarise(arm, [])


def test_the_best_ponder_arm_within_a_cost_and_none_when_all_cost_more() -> None:
    cheap = summarise(Arm("ponder", "pot", "0.5b"), [_row("a", True, 100)], reps=10)
    dear = summarise(Arm("ponder", "sc:n=5", "0.5b"), [_row("a", True, 900)], reps=10)
    wrong = summarise(Arm("ponder", "auto", "0.5b"), [_row("a", False, 50)], reps=10)
    assert best_within([cheap, dear, wrong], 1000) is cheap  # as accurate and cheaper
    assert best_within([cheap, dear, wrong], 60) is wrong
    assert best_within([cheap, dear], 60) is None


def test_arms_cover_every_tier_then_the_ladder_and_refuse_unknown_names() -> None:
    arms = make_arms(["sc:n=5", "pot"], ["none", "moa"], ["0.5b", "1.5b"], ladder=True)
    assert len(arms) == 9 and arms[-1] == Arm("ponder", "auto", LADDER)
    assert len({a.key for a in arms}) == 9
    with pytest.raises(ArmError, match="no approach 'mixture'"):
        make_arms([], ["mixture"], ["0.5b"], ladder=False)
    with pytest.raises(ArmError, match="unknown tier '3b'"):
        make_arms(["pot"], [], ["3b"], ladder=False)
    with pytest.raises(ArmError, match="unknown ponder strategy 'vote'"):
        make_arms(["vote:n=3"], [], ["0.5b"], ladder=False)
    with pytest.raises(ArmError, match="no arm"):
        make_arms([], [], [], ladder=False)


def test_strategy_options_are_typed_and_malformed_ones_refused() -> None:
    name, options = parse_strategy("bon:n=3,scorer=calc,temperature=0.5,cot=false")
    assert name == "bon"
    assert options == {"n": 3, "scorer": "calc", "temperature": 0.5, "cot": False}
    with pytest.raises(ArmError, match="KEY=VALUE"):
        parse_strategy("sc:n")


def test_requests_name_the_approach_or_the_strategy_and_the_same_budget() -> None:
    which, body = peers.request_body(Arm("optillm", "none", "1.5b"), "Q?", 256)
    assert which == "optillm" and "optillm_approach" not in body  # its default
    assert body["model"] == "qwen2.5-coder-1.5b" and body["max_tokens"] == 256
    _, body = peers.request_body(Arm("optillm", "moa", "0.5b"), "Q?", 256)
    assert body["optillm_approach"] == "moa"
    which, body = peers.request_body(Arm("ponder", "auto", LADDER), "Q?", 256)
    assert which == "ponder" and body["model"] == "ladder-0.5b"
    assert body["ponder"] == {"strategy": "auto"} and body["max_tokens"] == 256
    assert body["messages"] == [{"role": "user", "content": "Q?"}]


def _data(folder: Path, name: str, count: int) -> None:
    lines = [
        json.dumps({"id": f"{name}-{i}", "question": "q", "answer": "1"}) for i in range(count)
    ]
    (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n")


def test_items_skip_the_ladders_and_alternate_between_sets(tmp_path: Path) -> None:
    _data(tmp_path, "svamp", 20)
    _data(tmp_path, "gsm8k-train", 20)
    items = peers.load_items(tmp_path, ["svamp", "gsm8k-train"], 3, 5)
    assert [i["set"] for i in items] == ["svamp", "gsm8k-train"] * 3
    first_five = peers.load_items(tmp_path, ["svamp"], 5, 0)
    assert not {i["id"] for i in first_five} & {i["id"] for i in items}
    with pytest.raises(ArmError, match="not found"):
        peers.load_items(tmp_path / "nowhere", ["svamp"], 3, 0)


def test_a_worked_gsm8k_solution_gives_its_final_number_as_gold(tmp_path: Path) -> None:
    row = {"id": "gsm8k-train-0", "question": "q", "answer": "48/2 = <<48/2=24>>24\n#### 72"}
    (tmp_path / "gsm8k-train.jsonl").write_text(json.dumps(row) + "\n")
    assert peers.load_items(tmp_path, ["gsm8k-train"], 1, 0)[0]["answer"] == "72"


def test_stored_replies_are_read_again_by_the_current_rule() -> None:
    row = {"text": "So 3 + 4 = 7.\nAnswer: 7", "gold": "7", "correct": False, "answer": "4"}
    assert peers.rescored(row)["correct"] and peers.rescored(row)["answer"] == "7"
    failed = {"text": "", "gold": "7", "correct": False, "error": "HTTP 500"}
    assert peers.rescored(failed) == failed


def test_stored_errors_are_kept_unless_asked_to_retry(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"error": None}) + "\n" + json.dumps({"error": "HTTP 500"}) + "\n")
    assert len(peers.read_rows(path, retry_errors=False)) == 2
    assert len(peers.read_rows(path, retry_errors=True)) == 1
    assert peers.read_rows(tmp_path / "none.jsonl", retry_errors=False) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--per-set", "0"], "--per-set must be at least 1"),
        (["--sets", "mmlu"], "unknown data set 'mmlu'"),
        (["--skip", "-1"], "--skip must be zero or more"),
    ],
)
def test_bad_arguments_stop_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        peers.parse_args(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_an_unknown_tier_is_refused_by_main_with_no_server_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert peers.main(["--tiers", "7b", "--out", str(tmp_path / "run")]) == 2
    assert "unknown tier '7b'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_engine_limits_and_overhead_arithmetic() -> None:
    one = engine_limit.limits(5e8, 5e8, 40e9, 100e9, 1)
    assert one.bandwidth_tok_s == pytest.approx(80) and one.compute_tok_s == pytest.approx(100)
    eight = engine_limit.limits(5e8, 5e8, 40e9, 100e9, 8)
    assert eight.bandwidth_tok_s == pytest.approx(640) and eight.bound == pytest.approx(100)
    assert engine_limit.overhead(10.5, 1000, 10.0, 1000) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        engine_limit.limits(0, 5e8, 40e9, 100e9, 1)
    with pytest.raises(ValueError):
        engine_limit.overhead(1.0, 0, 1.0, 10)


def test_engine_limit_refuses_a_pace_file_without_the_decode_part(monkeypatch, capsys) -> None:
    monkeypatch.setattr(
        sys, "argv", ["engine_limit.py", "--parts", "sc", "--pace-out", "pace.json"]
    )
    with pytest.raises(SystemExit) as stop:
        engine_limit.main()
    assert stop.value.code == 2
    assert "--pace-out needs the decode part" in capsys.readouterr().err


def test_time_left_counts_each_arm_at_its_own_pace() -> None:
    # a resumed run: ponder's pot took 2 s a question, optillm's moa 80 s; what is left
    # is one of each and a never-seen arm, which counts at the mean of all seen
    seen = [("pot", 2.0), ("pot", 2.0), ("moa", 80.0), ("moa", 80.0)]
    assert peers.time_left(seen, ["pot", "moa", "plansearch"]) == pytest.approx(2 + 80 + 41)
    assert peers.time_left([], ["pot"]) is None  # nothing seen yet: no estimate
    assert peers.time_left(seen, []) == 0.0


def test_ladder_items_with_skip_are_the_next_ones_after_the_pools_and_peers(
    tmp_path: Path, monkeypatch
) -> None:
    import ladder_items

    _data(tmp_path, "svamp", 30)
    _data(tmp_path, "gsm8k-train", 30)
    for licence in ladder_items.SETS.values():
        (tmp_path / licence).write_text("MIT\n")
    out = tmp_path / "out"
    for extra in ([], ["--skip", "12"]):
        monkeypatch.setattr(
            sys,
            "argv",
            [
                "ladder_items.py",
                "--source",
                str(tmp_path),
                "--out",
                str(out),
                "--per-set",
                "6",
                *extra,
            ],
        )
        ladder_items.main()
    pools = (out / "svamp-6.jsonl").read_text().splitlines()
    fresh = (out / "svamp-13-18.jsonl").read_text().splitlines()
    peer_ids = {i["id"] for i in peers.load_items(tmp_path, ["svamp"], 6, 6)}
    ids = [json.loads(line)["id"] for line in fresh]
    assert len(ids) == 6 and not set(ids) & peer_ids
    assert not set(ids) & {json.loads(line)["id"] for line in pools}
    whole = ladder_items.subset((tmp_path / "svamp.jsonl").read_text().splitlines(), 18)
    assert [json.loads(line)["id"] for line in whole[12:]] == ids
    monkeypatch.setattr(sys, "argv", ["ladder_items.py", "--skip", "-1"])
    with pytest.raises(SystemExit):
        ladder_items.main()
