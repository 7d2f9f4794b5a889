"""``ponder plan`` through click's test runner: tables, JSON, plots, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ponder.cli.plan import plan


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(plan, list(args), terminal_width=120)
    return result.exit_code, result.stdout, result.stderr


def test_params_table_and_json() -> None:
    code, out, _ = run("params", "mixtral-8x7b")
    assert code == 0 and "46.70B" in out and "12.88B" in out
    code, out, _ = run("params", "mixtral-8x7b", "--json")
    data = json.loads(out)
    assert data["total_params"] == 46_702_792_704 and data["moe"]["top_k"] == 2


def test_kv_reproduces_the_320_gib_claim() -> None:
    _, out, _ = run("kv", "llama-2-70b", "--context", "128K", "--kv-heads", "64", "--json")
    assert json.loads(out)["bytes_per_request"] == 320 * 1024**3
    _, out, _ = run("kv", "llama-2-70b", "--context", "128K", "--json")
    assert json.loads(out)["bytes_per_request"] == 40 * 1024**3


def test_serve_prints_the_vllm_command() -> None:
    code, out, _ = run(
        "serve", "mixtral-8x22b", "--gpu", "H100-80GB", "--count", "8", "--context", "32k"
    )
    assert code == 0
    assert "vllm serve mistralai/Mixtral-8x22B-v0.1" in out
    assert "--enable-expert-parallel" in out and "Why" in out


def test_memory_json() -> None:
    code, out, _ = run("memory", "llama-3.1-70b", "--gpu", "H100", "--tp", "8", "--json")
    data = json.loads(out)
    assert code == 0 and data["fits"] and data["context"] == 8192


def test_rag_and_size() -> None:
    code, out, _ = run("rag", "--doc-tokens", "250k", "--precise")
    assert code == 0 and "RAG + chunk search" in out and "Lost in the middle" in out
    code, out, _ = run("size", "--deployment", "server", "--simple", "--gpu", "L4", "--json")
    assert code == 0 and json.loads(out)["recommended"]


@pytest.mark.parametrize(
    ("args", "plot_name"),
    [
        (("memory", "mixtral-8x7b", "--tp", "2", "--context", "4096"), "memory.png"),
        (("serve", "llama-3.2-3b", "--gpu", "L4"), "serve.png"),
        (("kv", "gemma-2-2b"), "kv.png"),
        (("size", "--deployment", "edge", "--memory-gib", "8"), "size.png"),
    ],
)
def test_plots_are_written(tmp_path: Path, args: tuple[str, ...], plot_name: str) -> None:
    target = tmp_path / plot_name
    code, _, _ = run(*args, "--plot", str(target))
    assert code == 0
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("params", "gpt-9"), "neither a catalog model nor a config.json"),
        (("serve", "llama-2-70b", "--gpu", "TPU"), "unknown GPU 'TPU'"),
        (("memory", "llama-2-70b", "--tp", "3", "--context", "4096"), "use one of [1, 2, 4"),
        (("serve", "mixtral-8x22b", "--gpu", "L4", "--count", "2"), "Use at least"),
        (("kv", "llama-2-70b", "--context", "lots"), "cannot read 'lots'"),
        (("memory", "llama-2-70b", "--dtype", "fp5", "--context", "4096"), "unknown weight dtype"),
        (("size", "--deployment", "edge"), "--gpu NAME"),
    ],
)
def test_bad_input_is_one_clear_line(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args)
    assert code == 1
    assert message in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
