"""``ponder context`` as a user runs it, on a scripted backend and a fake tokenizer server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from ponder.backends.openai import OpenAIBackend
from ponder.cli.main import cli
from ponder.context import EstimateTokenizer, tokenizer_for
from ponder.context.tokens import HttpTokenizer


@pytest.fixture
def script(tmp_path: Path) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"magic number": ["It is 1234567."], "Key:": ["no idea"]}))
    return f"scripted:{path}"


def test_niah_runs_a_grid_draws_a_heatmap_and_resumes(script: str, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "context",
        "niah",
        "-m",
        script,
        "--lengths",
        "200,400",
        "--depths",
        "0,1",
        "--out",
        str(out),
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "4 finished, 0 failed, 0 already done" in first.output
    assert "estimated" in first.output  # a scripted backend has no tokenizer
    assert (out / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert {r["strategy"] for r in records} == {"niah:single,filler=prose"}
    assert all(r["score"] == 0.0 for r in records)
    second = CliRunner().invoke(cli, args)
    assert "0 finished, 0 failed, 4 already done" in second.output
    report = CliRunner().invoke(cli, ["context", "report", str(out)])
    assert report.exit_code == 0 and "depth x length" in report.output


def test_kv_and_docs_draw_position_curves(script: str, tmp_path: Path) -> None:
    kv = CliRunner().invoke(
        cli, ["context", "kv", "-m", script, "--pairs", "6", "--out", str(tmp_path / "kv")]
    )
    assert kv.exit_code == 0, kv.output
    assert (tmp_path / "kv" / "positions.png").exists()
    docs = CliRunner().invoke(
        cli,
        [
            "context",
            "docs",
            "-m",
            script,
            "--docs",
            "5",
            "--positions",
            "1,3",
            "--order",
            "natural,ends",
            "--out",
            str(tmp_path / "docs"),
        ],
    )
    assert docs.exit_code == 0, docs.output
    assert "closed-book" in docs.output and "retrieval rank" in docs.output
    both = CliRunner().invoke(
        cli,
        [
            "context",
            "report",
            str(tmp_path / "kv"),
            str(tmp_path / "docs"),
            "--out",
            str(tmp_path / "both"),
        ],
    )
    assert both.exit_code == 0, both.output
    assert (tmp_path / "both" / "positions.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["niah", "--depths", "0,2"], "depths between 0 and 1"),
        (["niah", "--lengths", "1k"], "--lengths must be comma-separated integers"),
        (["kv", "--pairs", "1"], "--pairs must be between 2 and 2000"),
        (["docs", "--docs", "5", "--positions", "9"], "--positions must lie between 1 and 5"),
        (["docs", "--order", "middle"], "unknown order 'middle'"),
        (["kv", "--samples", "0"], "Invalid value for '--samples'"),
    ],
)
def test_bad_input_gives_one_clear_line(
    args: list[str], message: str, script: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(cli, ["context", *args, "-m", script, "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


class VllmTokenize(BaseHTTPRequestHandler):
    """vLLM's /tokenize: {"prompt"} in, token ids and byte-level strings out."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if "prompt" not in body:
            self.send_response(400)
            self.end_headers()
            return
        words = body["prompt"].split(" ")
        strs = [words[0]] + ["Ġ" + w for w in words[1:]]
        data = json.dumps({"tokens": list(range(len(strs))), "token_strs": strs}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def vllm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), VllmTokenize)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_vllm_server_tokenizes_exactly(vllm_url: str) -> None:
    tokenizer = tokenizer_for(OpenAIBackend(vllm_url, "m"))
    assert isinstance(tokenizer, HttpTokenizer) and tokenizer.exact
    assert tokenizer.offsets("one two three") == [0, 3, 7]


def test_no_tokenizer_endpoint_falls_back_to_the_estimate() -> None:
    tokenizer = tokenizer_for(OpenAIBackend("http://127.0.0.1:9/v1", "m"))
    assert isinstance(tokenizer, EstimateTokenizer) and not tokenizer.exact
