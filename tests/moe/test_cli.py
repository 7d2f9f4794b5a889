"""``ponder moe bench``: the sweep table, the load histogram, JSON and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("torch", reason="needs the moe extra: pip install 'ponder[moe]'")

from ponder.cli.main import cli

TINY = ["--hidden", "16", "--ffn", "32", "--experts", "2,4", "--top-k", "1,2", "--tokens", "64"]


def test_bench_json_has_total_and_active_params_and_the_load() -> None:
    result = CliRunner().invoke(cli, ["moe", "bench", *TINY, "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    pairs = [(r["num_experts"], r["top_k"]) for r in data["sweep"]]
    assert pairs == [(2, 1), (2, 2), (4, 1), (4, 2)]
    per_expert = 3 * 16 * 32
    row = data["sweep"][3]
    assert row["total_params"] - row["active_params"] == 2 * per_expert
    assert all(r["us_per_token"] > 0 for r in data["sweep"])
    assert sum(data["load"]["tokens_per_expert"]) == 64  # E=4 (largest), K=1 (smallest)
    assert 0 < data["load"]["balance"] <= 1


def test_bench_prints_a_table_a_histogram_and_writes_a_plot(tmp_path: Path) -> None:
    out = tmp_path / "moe.png"
    result = CliRunner().invoke(cli, ["moe", "bench", *TINY, "--repeats", "1", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert "active params" in result.output and "expert   3 " in result.output
    assert out.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--experts", "4,x"], "Error: --experts must be comma-separated integers, got '4,x'"),
        (["--top-k", "8", "--experts", "4"], "Error: no (experts, top_k) pair with top_k <="),
        (["--threads", "0"], "Error: threads must be at least 1, got 0"),
    ],
)
def test_bad_options_are_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["moe", "bench", *TINY, *args])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert result.output.startswith(message)


@pytest.mark.slow
def test_public_names_exist_and_the_core_does_not_import_torch() -> None:
    import subprocess
    import sys

    import ponder.moe

    for name in ponder.moe.__all__:
        assert hasattr(ponder.moe, name), name
    code = "import sys, ponder, ponder.deploy, ponder.cli.main; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
