"""`eval report` on runs whose records carry no active parameters (as runs of a local
``.gguf`` path or of a served model store them): costs come from the model itself, and a
run with no cost at all says so and is drawn by tokens."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.deploy.gguf import gguf_params
from ponder.eval.replay import Point, pareto
from tests.gguf_writer import write_gguf

# greedy (the first output) is right on a third of the items, a vote of samples on two
SCRIPT = ["Answer: 5", "One and one make 2. Answer: 2", "Answer: 2"]


def _stored_run(tmp_path: Path, model: str, model_name: str) -> Path:
    """A sampling run made with the scripted backend, its records then rewritten as a
    run of ``model`` stores them (no ``active_params``, nothing priced)."""
    data = tmp_path / "d.jsonl"
    rows = [
        {"id": f"q{i}", "question": f"{i}+1?", "answer": 2 if i % 3 else 5, "difficulty": i % 2 + 1}
        for i in range(12)
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = tmp_path / "s.json"
    script.write_text(json.dumps(SCRIPT))
    out = tmp_path / "run"
    args = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}", "--out", str(out)]
    result = CliRunner().invoke(cli, [*args, "-s", "sample:n=4", "-s", "sc:n=3"])
    assert result.exit_code == 0, result.output
    records = out / "records.jsonl"
    lines = [json.loads(line) for line in records.read_text().splitlines()]
    for record in lines:
        record.update(model=model, model_name=model_name, active_params=None)
        record["cost"] = {"dollars": 0.0, "flops": 0.0}
    records.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return out


def _report(run: Path) -> tuple[str, dict]:
    result = CliRunner().invoke(cli, ["eval", "report", str(run), "--reps", "4", "--folds", "2"])
    assert result.exit_code == 0, result.output
    md = (run / "report" / "report.md").read_text()
    return md, json.loads((run / "report" / "report.json").read_text())


def test_a_gguf_path_run_is_priced_from_the_parameters_its_file_states(tmp_path):
    model = write_gguf(
        tmp_path / "tiny-1.5b.gguf",
        {"token_embd.weight": (1536, 151936), "blk.0.ffn_down.weight": (8960, 1536)},
    )
    params = gguf_params(model).active
    run = _stored_run(tmp_path, f"embedded:{model}", str(model))
    md, data = _report(run)
    points = data["fixed"] + data["live"]
    assert points and all(p["dollars"] > 0 and p["flops"] > 0 for p in points)
    for p in points:
        assert abs(p["flops"] - 2 * params * p["tokens"]) <= 1e-6 * p["flops"]
    table = md.split("## Strategies")[1].split("##")[0]
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| ")][1:]
    assert rows and all(float(r[5]) > 0 for r in rows)  # $/1k q
    assert "costs are all zero" not in md


def test_a_run_that_costs_nothing_says_so_and_draws_its_frontier_by_tokens(tmp_path):
    run = _stored_run(tmp_path, "openai:http://127.0.0.1:9/v1#my-own-7b", "my-own-7b")
    md, data = _report(run)
    assert all(p["dollars"] == 0 and p["flops"] == 0 for p in data["fixed"])
    note = next(n for n in data["notes"] if "costs are all zero" in n)
    assert "my-own-7b" in note and "tokens" in note
    assert data["cost_unit"] == "tokens"
    expected = {p.name for p in pareto([Point(**p) for p in data["fixed"]], "tokens")}
    marked = {
        cells[1].strip()
        for cells in (line.split("|") for line in md.splitlines() if line.startswith("| "))
        if cells[-2].strip() == "yes"
    }
    assert marked == expected and len(expected) > 1
