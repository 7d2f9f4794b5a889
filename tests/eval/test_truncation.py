"""Samples cut at max_tokens without a final-answer marker abstain: live, in sampling runs,
in stored pools, in the cascade, and the report says how often it happened."""

import asyncio
import gzip
import json
import random
from pathlib import Path

from click.testing import CliRunner

from ponder.answers import extract_answer, sample_answer
from ponder.backends.scripted import ScriptedBackend
from ponder.cascade import parse_plan
from ponder.cli.main import cli
from ponder.eval.datasets import Item
from ponder.eval.pools import load_pools
from ponder.eval.replay import plan_evaluator
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.report import build_report, write_report
from ponder.voting import tally

DATA = Path(__file__).parents[2] / "benchmarks" / "data"
CUT = "First add 12 and 3 to get 15 and then we add 4 more so the total so far is 12 " * 3


def real_records(name: str) -> list[dict]:
    """The model's stored built-in and word-suite (16-sample) records."""
    short = {"smollm2-135m": "smol", "qwen2.5-coder-0.5b": "qwen"}[name]
    files = [DATA / f"samples-{name}.jsonl.gz", *sorted(DATA.glob(f"word16/word16-{short}-*"))]
    records = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            records += [json.loads(line) for line in f]
    return records


def test_a_cut_output_without_a_marker_has_no_answer():
    assert sample_answer("so 2 + 4 = 6 and 2 * 4 = ", "number", truncated=True) is None
    assert sample_answer("so 2 + 4 = 6 and 2 * 4 = ", "number") == "4"  # complete: unchanged
    assert sample_answer("Answer: 18\nThen more text 5", "number", truncated=True) == "18"
    assert sample_answer("so \\boxed{2", "number", truncated=True) is None  # cut mid-answer
    assert sample_answer("Answer: 18\n", "number", truncated=True) == extract_answer("Answer: 18")


def test_real_truncated_outputs_of_the_embedded_models_never_vote():
    for name in ("smollm2-135m", "qwen2.5-coder-0.5b"):
        records = real_records(name)
        pools = load_pools(records)
        cut = [s for record in records for s in record["samples"] if s["finish_reason"] == "length"]
        assert len(cut) > 80  # real cut-off outputs, at each model's budget
        stored = [s for p in pools.by_tier[pools.tiers[0].model].values() for s in p.sampled]
        truncated = [s for s in stored if s.truncated]
        marked = [s for s in truncated if s.answer is not None]
        assert all(sample_answer(s.text, "number", truncated=True) for s in marked)
        assert len(marked) < len(truncated) / 2
        assert sum(tally([s for s in truncated if s.answer is None]).values()) == 0


def test_sc_on_the_cli_lets_cut_samples_abstain(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"2 + 5": ["Answer: 7", CUT, CUT + "a", CUT + "b"]}))
    args = ["ask", "What is 2 + 5?", "-m", f"scripted:{script}", "--json"]
    result = CliRunner().invoke(cli, [*args, "-s", "sc:n=4,max_tokens=40,stop=fixed"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "7" and data["votes"] == {"7": 1.0}  # not "12" (3 cut votes)
    assert data["usage"]["truncated"] == 3 and data["usage"]["samples"] == 4


def test_the_cascade_escalates_when_greedy_is_cut(tmp_path):
    item = Item("w1", "What is 2 + 5?", "7", "number", "1", None, "word")
    small = ScriptedBackend({"2 + 5": [CUT, "Answer: 7"]}, model="small", active_params=1e8)
    store = SampleStore(tmp_path / "run")
    asyncio.run(run_eval([item], small, ["sample:n=4,max_tokens=40"], store, model="small"))
    pools = load_pools(store.records())
    assert pools.pool(0, "w1").greedy.answer is None
    assert not plan_evaluator(parse_plan("cot@0"))(pools, "w1", random.Random(0)).correct
    escalated = plan_evaluator(parse_plan("cot@0 > 4@0"))(pools, "w1", random.Random(0))
    assert escalated.correct and escalated.spend.samples == 5 and escalated.spend.truncated == 3


def test_report_shows_and_warns_about_truncation(tmp_path):
    items = [Item(f"w{i}", f"What is {i} + 5?", str(i + 5), "number", "1") for i in range(8)]
    script = {f"{i} + 5": [CUT, f"Answer: {i + 5}"] for i in range(8)}
    small = ScriptedBackend(script, model="small", active_params=1e8)
    store = SampleStore(tmp_path / "run")
    asyncio.run(run_eval(items, small, ["sample:n=4,max_tokens=40"], store, model="small"))
    report = build_report(tmp_path / "run", reps=4, folds=2)
    greedy = next(p for p in report.fixed if p.name.startswith("cot@"))
    assert greedy.truncated == 1.0 and greedy.accuracy == 0.0
    assert any("stopped at max_tokens" in note and "cot@" in note for note in report.notes)
    text = write_report(report, tmp_path / "out")["md"].read_text(encoding="utf-8")
    assert "cut at max_tokens %" in text and "| 100.0 |" in text


def test_eval_run_warns_when_many_samples_are_cut(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "question": f"{i}+5?", "answer": i + 5}) + "\n"
            for i in range(3)
        )
    )
    script = tmp_path / "s.json"
    script.write_text(json.dumps([CUT, "Answer: 6"]))
    base = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}"]
    cut = CliRunner().invoke(
        cli, [*base, "--out", str(tmp_path / "a"), "-s", "sample:n=3,max_tokens=40"]
    )
    assert cut.exit_code == 0, cut.output
    assert "6 of 12 samples (50%) stopped at max_tokens" in cut.output
    roomy = CliRunner().invoke(
        cli, [*base, "--out", str(tmp_path / "b"), "-s", "sample:n=3,max_tokens=99"]
    )
    assert roomy.exit_code == 0 and "stopped at max_tokens" not in roomy.output


def test_eval_replay_shows_the_cut_share(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"id": "q", "question": "1+5?", "answer": 6}) + "\n")
    script = tmp_path / "s.json"
    script.write_text(json.dumps([CUT, "Answer: 6"]))
    run = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}", "--out", str(tmp_path)]
    assert CliRunner().invoke(cli, [*run, "-s", "sample:n=4,max_tokens=40"]).exit_code == 0
    shown = CliRunner().invoke(cli, ["eval", "replay", str(tmp_path), "--reps", "2", "--json"])
    cut = {p["name"].split("@")[0]: p["truncated"] for p in json.loads(shown.output)}
    assert cut["cot"] == 1.0 and cut["sc:n=4"] == 0.5  # greedy cut; 2 of 4 samples cut
    table = CliRunner().invoke(cli, ["eval", "replay", str(tmp_path), "--reps", "2"])
    assert "cut %" in table.output
