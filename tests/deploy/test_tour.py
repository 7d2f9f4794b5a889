"""`ponder plan` as a new user meets it: paths, names, warnings, the catalog."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.deploy.catalog import find_model


def plan(*args: str) -> object:
    return CliRunner().invoke(cli, ["plan", *args])


def _configs(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "checkpoints" / "my-70b"
    folder.mkdir(parents=True)
    config = {k: v for k, v in find_model("llama-3.1-70b").config.items() if k != "_name_or_path"}
    (folder / "config.json").write_text(json.dumps(config))
    named = tmp_path / "configs" / "deepseek-v2.json"
    named.parent.mkdir()
    moe = {k: v for k, v in find_model("deepseek-v2").config.items() if k != "_name_or_path"}
    named.write_text(json.dumps(moe))
    return folder, named


def test_serve_on_a_folder_serves_that_path_and_a_file_is_named_by_its_stem(tmp_path):
    folder, named = _configs(tmp_path)
    served = plan("serve", str(folder), "--gpu", "H100-80GB", "--count", "4", "--json")
    assert served.exit_code == 0, served.output
    assert json.loads(served.output)["command"].startswith(f"vllm serve {folder} ")
    kv = plan("kv", str(named), "--json")
    assert kv.exit_code == 0, kv.output
    assert json.loads(kv.output)["model"] == "deepseek-v2"


def test_size_without_hardware_says_what_to_pass():
    result = plan("size", "--deployment", "server")
    assert result.exit_code != 0
    assert "--gpu NAME" in result.output and "not both" not in result.output


def test_kv_past_the_models_context_warns():
    result = CliRunner().invoke(cli, ["plan", "kv", "llama-2-70b", "--context", "128K"])
    assert result.exit_code == 0
    assert "exceeds llama-2-70b's max_position_embeddings (4,096)" in result.output


def test_serve_says_why_each_next_best_layout_was_not_chosen():
    result = plan("serve", "mixtral-8x22b", "--gpu", "H100-80GB", "--count", "8", "--json")
    alternatives = json.loads(result.output)["alternatives"]
    assert alternatives and all(a["why_not"] for a in alternatives)
    assert any("holds more" in a["why_not"] for a in alternatives)


def test_models_and_gpus_list_the_catalog():
    models = json.loads(plan("models", "--json").output)
    assert {"llama-2-70b", "deepseek-v3", "smollm2-135m"} <= {m["name"] for m in models}
    gpus = json.loads(plan("gpus", "--json").output)
    assert "H100-80GB" in {g["name"] for g in gpus}
    assert "mixtral-8x7b" in plan("models").output
