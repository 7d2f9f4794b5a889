"""Expert parallelism across processes (gloo on loopback) against the single-process layer."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch", reason="needs the moe extra: pip install 'ponder[moe]'")

from ponder.cli.main import cli  # noqa: E402
from ponder.deploy import architecture_from_config  # noqa: E402
from ponder.deploy.comm import ep_all_to_all  # noqa: E402
from ponder.moe import ExpertParallelError, MoEConfig  # noqa: E402
from ponder.moe.epcheck import compare, compare_grads  # noqa: E402

MIXTRAL = {
    "model_type": "mixtral",
    "vocab_size": 64,
    "hidden_size": 32,
    "intermediate_size": 24,
    "num_hidden_layers": 1,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "num_local_experts": 8,
    "num_experts_per_tok": 2,
}


@pytest.mark.parametrize("world", [2, 4])
@pytest.mark.parametrize("router", ["mixtral", "qwen", "deepseek_v3"])
def test_expert_parallel_equals_one_process(world: int, router: str) -> None:
    cfg = MoEConfig(
        hidden_size=32,
        expert_intermediate=24,
        num_experts=8,
        top_k=2,
        router=router,  # type: ignore[arg-type]
        shared_intermediate=0 if router == "mixtral" else 16,
        shared_expert_gate=router == "qwen",
        n_group=2 if router == "deepseek_v3" else 1,
        topk_group=1,
    )
    result = compare(cfg, world, tokens_per_rank=48, timeout=60)
    assert result.max_abs_diff <= 1e-5
    assert len(result.ranks) == world


@pytest.mark.parametrize("world", [2, 4])
def test_bytes_sent_equal_the_planner_estimate(world: int) -> None:
    cfg = MoEConfig.from_hf_config(MIXTRAL)
    arch = architecture_from_config(MIXTRAL, "tiny-mixtral")
    tokens = 64  # a multiple of E: the balanced router gives every rank the same share
    result = compare(cfg, world, tokens_per_rank=tokens, balanced=True, timeout=60)
    plan = ep_all_to_all(arch, world, tokens=tokens, bytes_per_value=4)  # fp32 activations
    assert result.max_abs_diff <= 1e-5
    for rank in result.ranks:
        assert rank.dispatch_bytes == plan.dispatch_bytes
        assert rank.combine_bytes == plan.combine_bytes


def test_ep_command_compares_with_the_planner() -> None:
    args = ["moe", "ep", "--world-size", "2", "--balanced", "--tokens", "32", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["max_abs_diff"] <= 1e-5
    assert [r["payload_bytes"] for r in data["ranks"]] == [data["planner_bytes"]] * 2


def test_world_size_must_divide_the_experts() -> None:
    result = CliRunner().invoke(cli, ["moe", "ep", "--world-size", "3"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: 8 experts do not split over 3 ranks; use a world size that divides the number "
        "of experts"
    ]
    with pytest.raises(ExpertParallelError, match="capacity factor"):
        compare(MoEConfig.from_hf_config(MIXTRAL, capacity_factor=1.0), 2, 8)


def test_plan_serve_reports_the_all_to_all() -> None:
    args = ["plan", "serve", "mixtral-8x22b", "--gpu", "H100-80GB", "--count", "8", "--json"]
    result = CliRunner().invoke(cli, [*args, "--context", "32k"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # per token and MoE layer: 2 (dispatch, combine) x K=2 x 6144 x 2 bytes x 7/8 remote
    assert data["ep_all_to_all_per_token_layer"]["total_bytes"] == 2 * 2 * 6144 * 2 * 7 / 8
    assert any("All-to-all per token and MoE layer: 42.0 KiB" in r for r in data["reasons"])


@pytest.mark.parametrize("world", [2, 4])
def test_gradients_through_the_all_to_all_equal_one_process(world: int) -> None:
    cfg = MoEConfig(
        hidden_size=16,
        expert_intermediate=8,
        num_experts=8,
        top_k=2,
        router="qwen",
        shared_intermediate=8,
        shared_expert_gate=True,
    )
    assert compare_grads(cfg, world, tokens_per_rank=24) <= 1e-5
