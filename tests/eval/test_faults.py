"""Faults a user meets in `ponder eval run`: a cut-off store, a full disk, two runs on
one directory, Ctrl-C, failing items, an edited item, bad input. Driven through the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.eval.store import SampleStore

SLOW_CLI = """
import asyncio, sys, time
from ponder.backends import register_backend
from ponder.backends.scripted import ScriptedBackend

class Stuck(ScriptedBackend):  # a backend whose work cannot be cancelled (a thread)
    async def generate(self, messages, params, n=1):
        await asyncio.to_thread(time.sleep, 60)
        return await super().generate(messages, params, n)

register_backend("slow", lambda t, o: ScriptedBackend(["Answer: 1"], latency_s=float(t)))
register_backend("stuck", lambda t, o: Stuck(["Answer: 1"]))
from ponder.cli.main import main
sys.argv = ["ponder", *sys.argv[1:]]
main()
"""


def script(tmp_path: Path, answer: str = "Answer: 2") -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps([answer]))
    return f"scripted:{path}"


def data(tmp_path: Path, n: int, name: str = "d.jsonl", answer_of=lambda i: i + 1) -> Path:
    path = tmp_path / name
    lines = [
        json.dumps({"id": f"q{i}", "question": f"{i}+1?", "answer": answer_of(i)}) for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(cli, ["eval", "run", *args])


def test_a_cut_off_last_line_is_repaired_and_later_runs_keep_working(tmp_path):
    out, model = tmp_path / "run", script(tmp_path)
    args = ["--data", str(data(tmp_path, 6)), "-m", model, "-s", "sample:n=2", "--out", str(out)]
    assert run(*args, "--limit", "4").exit_code == 0
    records = out / "records.jsonl"
    text = records.read_bytes()
    records.write_bytes(text[: len(text) - 120])  # a crash cut the last line short
    for _ in range(2):
        again = run(*args)
        assert again.exit_code == 0, again.output
    stored = SampleStore(out).records()
    assert sorted(r["item"]["id"] for r in stored) == [f"q{i}" for i in range(6)]
    for command in (
        ["replay", str(out), "--json"],
        ["export", str(out), str(tmp_path / "x.jsonl")],
    ):
        assert CliRunner().invoke(cli, ["eval", *command]).exit_code == 0


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_leaves_no_half_line_behind(tmp_path, tiny_disk):
    out, model = tiny_disk / "run", script(tmp_path)
    dataset = data(tmp_path, 8)
    args = ["--data", str(dataset), "-m", model, "-s", "direct", "--out", str(out)]
    assert run(*args, "--limit", "2").exit_code == 0
    filler = tiny_disk / "filler"
    with filler.open("wb", buffering=0) as fill:
        try:
            while True:
                fill.write(b"x" * 512)
        except OSError:
            pass
    full = run(*args)
    assert full.exit_code != 0
    assert "No space left on device" in full.output and "Traceback" not in full.output
    assert (out / "records.jsonl").read_bytes().endswith(b"\n")
    filler.unlink()
    for _ in range(2):
        again = run(*args)
        assert again.exit_code == 0, again.output
    assert len(SampleStore(out).records()) == 8


@pytest.mark.slow
def test_a_second_run_on_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_CLI,
            "eval",
            "run",
            "--data",
            str(data(tmp_path, 3)),
            "-m",
            "slow:30",
            "-s",
            "direct",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 30
        while not (out / "run.json").exists() and time.time() < deadline:
            time.sleep(0.1)
        second = run(
            "--data", str(data(tmp_path, 3)), "-m", "slow:0", "-s", "direct", "--out", str(out)
        )
        assert second.exit_code != 0
        assert f"is in use by pid {holder.pid}" in second.output
    finally:
        holder.send_signal(signal.SIGINT)
        holder.communicate(timeout=30)
    assert not (out / "records.jsonl").exists() or not SampleStore(out).records()


def _start(tmp_path: Path, model: str) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_CLI,
            "eval",
            "run",
            "--data",
            str(data(tmp_path, 10)),
            "-m",
            model,
            "-s",
            "direct",
            "--out",
            str(out),
            "-c",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


@pytest.mark.slow
def test_ctrl_c_stops_at_once_prints_a_summary_and_exits_130(tmp_path):
    proc, out = _start(tmp_path, "slow:1.5")
    deadline = time.time() + 60
    while time.time() < deadline:
        if (out / "records.jsonl").exists() and (out / "records.jsonl").read_text().strip():
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    start = time.time()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert time.time() - start < 1.2  # not after the item in flight (1.5 s) finishes
    assert "interrupted: 1 done, 0 failed" in err and "Traceback" not in err
    assert "Aborted" not in err


@pytest.mark.slow
def test_a_second_ctrl_c_exits_even_when_work_cannot_be_cancelled(tmp_path):
    proc, _ = _start(tmp_path, "stuck:")
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    time.sleep(1)
    assert proc.poll() is None  # waiting for the stuck thread
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=5)
    assert proc.returncode == 130


def test_failed_items_give_a_summary_and_a_non_zero_exit(tmp_path):
    dead = "openai:http://127.0.0.1:9/v1#m?retries=0&timeout=2"
    out = tmp_path / "run"
    args = ["--data", str(data(tmp_path, 3)), "-m", dead, "-s", "direct", "--out", str(out)]
    result = run(*args)
    assert result.exit_code == 1
    assert "0 done, 3 failed, 0 skipped" in result.output
    assert "records.jsonl" in result.output and "retries them" in result.output
    tolerated = run(*args, "--max-failures", "5")
    assert tolerated.exit_code == 0, tolerated.output
    stopped = run(*args, "--max-failures", "1", "-c", "1")
    assert stopped.exit_code == 1 and "1 not run" in stopped.output


def test_an_item_edited_under_the_same_id_is_run_again(tmp_path):
    out, model = tmp_path / "run", script(tmp_path)
    args = ["-m", model, "-s", "direct", "--out", str(out)]
    assert run("--data", str(data(tmp_path, 3)), *args).exit_code == 0
    edited = data(tmp_path, 3, answer_of=lambda i: 2)  # every gold answer is now 2
    result = run("--data", str(edited), *args)
    assert result.exit_code == 0, result.output
    assert (
        "2 item(s) changed" in result.output and "q0" not in result.output.split("changed")[1][:40]
    )
    assert all(r["correct"] for r in SampleStore(out).records())


def test_another_model_on_the_same_directory_is_refused(tmp_path):
    out = tmp_path / "run"
    dataset = str(data(tmp_path, 2))
    assert (
        run(
            "--data", dataset, "-m", script(tmp_path), "-s", "sample:n=2", "--out", str(out)
        ).exit_code
        == 0
    )
    other = tmp_path / "o.json"
    other.write_text(json.dumps(["Answer: 1"]))
    refused = run(
        "--data", dataset, "-m", f"scripted:{other}", "-s", "sample:n=2", "--out", str(out)
    )
    assert refused.exit_code != 0 and "use another --out" in refused.output
    resampled = run(
        "--data", dataset, "-m", script(tmp_path), "-s", "sample:n=4", "--out", str(out)
    )
    assert resampled.exit_code != 0 and "sample:n=2" in resampled.output
    added = run("--data", dataset, "-m", script(tmp_path), "-s", "direct", "--out", str(out))
    assert added.exit_code == 0, added.output
    assert json.loads((out / "run.json").read_text())["strategies"] == ["sample:n=2", "direct"]


def test_runtime_options_do_not_split_a_models_records(tmp_path):
    store = SampleStore(tmp_path)
    for i, threads in enumerate((1, 2, 1)):
        store.append(
            {
                "item": {"id": f"q{i}"},
                "model": f"embedded:m?threads={threads}&ctx=512",
                "strategy": "sample:n=2",
                "error": None,
            }
        )
    assert {r["model"] for r in store.records()} == {"embedded:m?ctx=512"}


def test_bad_input_fails_before_any_directory_or_model_call(tmp_path):
    dead = "openai:http://127.0.0.1:9/v1#m?retries=0&timeout=2"
    out = tmp_path / "run"
    cases = [
        (["--suite", "all", "--levels", "9", "-s", "direct"], "no chosen suite has level 9"),
        (["--suite", "arith", "-s", "foo"], "unknown strategy 'foo'"),
        (["--suite", "arith", "-s", "sc:kind=numbr"], "kind"),
    ]
    for args, message in cases:
        result = run(*args, "-m", dead, "--out", str(out))
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output and not out.exists()


def test_non_utf8_bytes_name_their_line(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"question": "1+1?", "answer": 2}\n{"question": "caf\xe9", "answer": 1}\n')
    result = run(
        "--data", str(path), "-m", script(tmp_path), "-s", "direct", "--out", str(tmp_path / "r")
    )
    assert result.exit_code != 0
    assert "d.jsonl:2: not UTF-8" in result.output and "Traceback" not in result.output


def test_progress_off_a_terminal_shows_the_total_from_the_start_and_an_eta(tmp_path):
    result = run(
        "--data",
        str(data(tmp_path, 3)),
        "-m",
        script(tmp_path),
        "-s",
        "direct",
        "--out",
        str(tmp_path / "run"),
    )
    lines = result.output.splitlines()
    assert lines[0].endswith("0/3 done, 0 failed, 0 s elapsed, ETA ?")
    assert "3/3 done" in lines[1] and "ETA 0 s" in lines[1]
