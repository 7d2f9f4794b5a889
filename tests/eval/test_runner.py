import asyncio
import json

import pytest
from click.testing import CliRunner

from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.errors import ConfigError
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.suites import suite_items
from ponder.eval.synthetic import synthetic_items, two_tier_backends

ITEMS = synthetic_items(per_level=2, levels=(1, 2))


def run(items, backend, specs, store, **kw):
    return asyncio.run(run_eval(items, backend, specs, store, **kw))


def test_sampling_mode_stores_greedy_plus_n_with_answers(tmp_path):
    small, _ = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path)
    summary = run(ITEMS, small, ["sample:n=5,wave=2"], store)
    assert (summary.finished, summary.failed, summary.skipped) == (4, 0, 0)
    records = store.records()
    assert len(records) == 4
    for r in records:
        temps = [s["temperature"] for s in r["samples"]]
        assert temps == [0.0] + [0.7] * 5
        assert all(s["answer"] is not None and s["completion_tokens"] > 0 for s in r["samples"])
        assert r["prediction"] == r["samples"][0]["answer"]
        assert r["usage"]["requests"] == 4  # greedy + waves of 2, 2, 1
        assert r["active_params"] == small.active_params
    level1 = [r for r in records if r["item"]["difficulty"] == "1"]
    assert all(r["correct"] for r in level1)


def test_rerun_skips_finished_items(tmp_path):
    small, _ = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path)
    run(ITEMS[:2], small, ["direct"], store)
    calls = len(small.calls)
    summary = run(ITEMS, small, ["direct"], store)
    assert summary.skipped == 2 and summary.finished == 2
    assert len(small.calls) == calls + 2


def test_failures_are_recorded_and_retried(tmp_path):
    backend = ScriptedBackend(["Answer: 3"], fail_first=2)
    store = SampleStore(tmp_path)
    progress = []
    summary = run(
        ITEMS,
        backend,
        ["direct"],
        store,
        concurrency=1,
        progress=lambda d, t, r: progress.append((d, t, bool(r["error"]))),
    )
    assert (summary.finished, summary.failed) == (2, 2)
    assert progress[-1][:2] == (4, 4)
    errors = [r["error"] for r in store.records() if r["error"]]
    assert len(errors) == 2 and "BackendUnavailableError" in errors[0]
    summary = run(ITEMS, backend, ["direct"], store)
    assert (summary.skipped, summary.finished, summary.failed) == (2, 2, 0)
    assert all(not r["error"] for r in store.records())


def test_interrupted_run_keeps_what_finished(tmp_path):
    slow = ScriptedBackend(["Answer: 1"], latency_s=0.05)
    store = SampleStore(tmp_path)

    async def interrupted():
        task = asyncio.ensure_future(run_eval(ITEMS, slow, ["direct"], store, concurrency=1))
        await asyncio.sleep(0.12)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    kept = len(store.records())
    assert 1 <= kept < len(ITEMS)
    summary = run(ITEMS, slow, ["direct"], store)
    assert summary.skipped == kept and summary.finished == len(ITEMS) - kept


def test_live_strategies_and_bad_specs(tmp_path):
    small, _ = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path)
    run(ITEMS, small, ["sc:n=3", "cot"], store)
    strategies = {r["strategy"] for r in store.records()}
    assert strategies == {"sc:n=3", "cot"}
    calls = len(small.calls)
    with pytest.raises(ConfigError, match="bad options for strategy 'sample'"):
        run(ITEMS, small, ["sample:n=-1"], store)
    with pytest.raises(ConfigError, match="unknown strategy"):
        run(ITEMS, small, ["nope"], store)
    with pytest.raises(ConfigError, match="concurrency"):
        run(ITEMS, small, ["direct"], store, concurrency=0)
    assert len(small.calls) == calls


def test_cli_run_is_resumable_and_reports_counts(tmp_path):
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["Answer: 2"]))
    args = [
        "eval",
        "run",
        "--suite",
        "arith",
        "--levels",
        "1",
        "--per-level",
        "3",
        "-m",
        f"scripted:{script}",
        "-s",
        "sample:n=2",
        "--out",
        str(tmp_path / "run"),
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "3 done, 0 failed, 0 skipped" in first.output
    again = CliRunner().invoke(cli, args)
    assert "0 done, 0 failed, 3 skipped" in again.output
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["strategies"] == ["sample:n=2"]


def test_cli_run_needs_one_source_and_lists_suites(tmp_path):
    result = CliRunner().invoke(cli, ["eval", "run", "-s", "direct", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "exactly one of --suite" in result.output
    listing = CliRunner().invoke(cli, ["eval", "suites"])
    assert listing.exit_code == 0
    for name in ("arith", "compare", "count"):
        assert name in listing.output


def test_cli_run_on_a_jsonl_dataset(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text(
        "\n".join(
            json.dumps({"question": f"What is {i}+1?", "answer": f"#### {i + 1}"}) for i in range(4)
        )
    )
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["Answer: 2"]))
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "run",
            "--data",
            str(data),
            "-m",
            f"scripted:{script}",
            "-s",
            "direct",
            "--out",
            str(tmp_path / "r"),
            "--limit",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    records = SampleStore(tmp_path / "r").records()
    assert {r["item"]["id"]: r["correct"] for r in records} == {
        "d-1": False,
        "d-2": True,
        "d-3": False,
    }
    assert len(suite_items("arith", 1)) == 6


@pytest.mark.parametrize(
    ("model", "budget"), [("smollm2-135m", 384), ("qwen2.5-coder-0.5b", 768), ("other", 256)]
)
def test_sampling_mode_defaults_to_the_models_budget(tmp_path, model, budget):
    backend = ScriptedBackend(["Answer: 1"], model=model)
    run(ITEMS[:1], backend, ["sample:n=2"], SampleStore(tmp_path))
    assert {c["params"].max_tokens for c in backend.calls} == {budget}
    asked = ScriptedBackend(["Answer: 1"], model=model)
    run(ITEMS[:1], asked, ["sample:n=2,max_tokens=99"], SampleStore(tmp_path / "asked"))
    assert {c["params"].max_tokens for c in asked.calls} == {99}


def test_a_strategy_named_twice_runs_once(tmp_path):
    small, _ = two_tier_backends(ITEMS)
    store = SampleStore(tmp_path)
    summary = run(ITEMS, small, ["direct", "direct"], store)
    assert (summary.finished, summary.skipped) == (4, 0)
    assert len(store.records()) == 4 and len(small.calls) == 4


def test_a_second_data_file_or_suite_in_one_out_is_refused(tmp_path):
    data = tmp_path / "a.jsonl"
    other = tmp_path / "b.jsonl"
    data.write_text(json.dumps({"question": "What is 2 + 3?", "answer": "5"}) + "\n")
    other.write_text(json.dumps({"question": "What is 2 + 4?", "answer": "6"}) + "\n")
    out = tmp_path / "run"

    def eval_run(*source: str):
        run_args = ["-m", "scripted:docs/examples/small.json", "-s", "direct", "--out", str(out)]
        return CliRunner().invoke(cli, ["eval", "run", *source, *run_args])

    first = eval_run("--data", str(data))
    assert first.exit_code == 0, first.output
    again = eval_run("--data", str(data))
    assert again.exit_code == 0, again.output  # the same file resumes
    mixed = eval_run("--data", str(other))
    assert mixed.exit_code != 0 and "b.jsonl" in mixed.output and "a.jsonl" in mixed.output
    assert "Traceback" not in mixed.output
    suite = eval_run("--suite", "arith", "--per-level", "1")
    assert suite.exit_code != 0 and "another --out" in suite.output
    assert len([line for line in (out / "records.jsonl").read_text().splitlines() if line]) == 1


def test_a_sampling_spec_with_spaces_is_still_one_sampling_setting(tmp_path):
    store = SampleStore(tmp_path)
    store.claim({"model": "scripted:x.json", "strategies": ["sample:n=2"]})
    with pytest.raises(ConfigError, match="would mix two sampling settings"):
        store.claim({"model": "scripted:x.json", "strategies": [" sample:n=3"]})
