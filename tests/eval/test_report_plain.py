"""`eval report` on runs a new user makes first: plain strategies, unpriced models."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ponder.cli.main import cli


def _run(tmp_path: Path, specs: list[str], n: int = 12) -> Path:
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": f"q{i}", "question": f"{i}+1?", "answer": 2 if i % 3 else 5, "difficulty": i % 2 + 1}
        for i in range(n)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["Answer: 2"]))  # right on two thirds of the items
    out = tmp_path / "run"
    args = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}", "--out", str(out)]
    for spec in specs:
        args += ["-s", spec]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


def test_sampling_run_of_an_unpriced_model_reports_without_dividing_by_zero(tmp_path):
    out = _run(tmp_path, ["sample:n=4"])
    result = CliRunner().invoke(cli, ["eval", "report", str(out), "--reps", "4", "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "ZeroDivisionError" not in result.output
    assert (out / "report" / "report.md").exists()


def test_plain_strategies_get_real_intervals_levels_and_notes(tmp_path):
    out = _run(tmp_path, ["direct", "cot"])
    result = CliRunner().invoke(cli, ["eval", "report", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "report" / "report.md").read_text()
    html = (out / "report" / "report.html").read_text()
    row = next(line for line in md.splitlines() if line.startswith("| direct [live]"))
    low, high = (float(x) for x in row.split("|")[3].split("-"))
    assert low < 66.7 < high  # a bootstrap interval over items, not 66.7-66.7
    assert "| strategy | data:1 | data:2 |" in md
    assert "Model(s): s. Items: 24 done." in md
    assert "## Notes" in md and "no sampling-mode records" in md
    assert "Tiers:" not in html and "Tiers:" not in md
    assert "see notes." not in md


def test_points_on_one_spot_share_a_label_and_notional_dollars_get_no_panel():
    from ponder.eval.plots import _labels, dollars_add_information
    from ponder.eval.replay import Point

    def point(name: str, acc: float, tokens: float, dollars: float) -> Point:
        return Point(name, acc, acc, acc, tokens, dollars, 0.0, 1.0)

    same = [point(f"s{i}@m", 0.75, 100.0 + i, (100.0 + i) * 1e-8) for i in range(5)]
    labels = _labels(same, "tokens", 1.0)
    assert list(labels.values()) == [["s0", "s1", "s2", "s3", "s4"]]
    assert not dollars_add_information(same)  # one notional price: dollars mirror tokens
    priced = [*same, point("big@other", 0.9, 100.0, 5e-6)]
    assert dollars_add_information(priced)


def test_a_run_with_program_samples_only_says_why_there_is_no_replay(tmp_path):
    out = _run(tmp_path, ["direct", "sample:n=3,program=true"])
    result = CliRunner().invoke(cli, ["eval", "report", str(out)])
    assert result.exit_code == 0, result.output
    md = (out / "report" / "report.md").read_text()
    assert "only program samples" in md
    assert "no sampling-mode records" not in md  # it has some: programs


def test_runs_on_other_questions_under_the_same_ids_are_refused_not_joined(tmp_path):
    runs = []
    for k, (template, reply) in enumerate([("{i}+1?", "Answer: 2"), ("{i}+2?", "Answer: 3")]):
        data = tmp_path / f"d{k}.jsonl"
        rows = [{"id": f"q{i}", "question": template.format(i=i), "answer": 2} for i in range(4)]
        data.write_text("".join(json.dumps(r) + "\n" for r in rows))
        script = tmp_path / f"model{k}.json"
        script.write_text(json.dumps([reply]))
        out = tmp_path / f"run{k}"
        args = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}", "--out", str(out)]
        result = CliRunner().invoke(cli, [*args, "-s", "sample:n=3"])
        assert result.exit_code == 0, result.output
        runs.append(str(out))
    result = CliRunner().invoke(cli, ["eval", "report", *runs, "--reps", "4", "--folds", "2"])
    assert result.exit_code != 0
    assert "q0" in result.output and "other question" in result.output
    assert "Traceback" not in result.output
