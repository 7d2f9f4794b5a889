"""Compatibility: Hugging Face MoE blocks load and match to 1e-5; sizes match the planner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch", reason="needs the moe extra: pip install 'ponder[moe]'")
transformers = pytest.importorskip("transformers", reason="needs transformers (the dev extra)")

from ponder.cli.main import cli  # noqa: E402
from ponder.moe import MoEConfig, MoEConfigError, MoELayer  # noqa: E402
from ponder.moe.hf import from_hf_block  # noqa: E402


def _randomise(block: Any) -> Any:
    torch.manual_seed(0)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.2)
    return block


def mixtral_block() -> Any:
    from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

    cfg = transformers.MixtralConfig(
        hidden_size=32, intermediate_size=48, num_local_experts=8, num_experts_per_tok=2
    )
    cfg._experts_implementation = "eager"
    return _randomise(MixtralSparseMoeBlock(cfg))


def qwen_block(norm: bool) -> Any:
    from transformers.models.qwen2_moe.modeling_qwen2_moe import Qwen2MoeSparseMoeBlock

    cfg = transformers.Qwen2MoeConfig(
        hidden_size=32,
        moe_intermediate_size=16,
        shared_expert_intermediate_size=64,
        num_experts=16,
        num_experts_per_tok=4,
        norm_topk_prob=norm,
    )
    cfg._experts_implementation = "eager"
    return _randomise(Qwen2MoeSparseMoeBlock(cfg))


def deepseek_block(version: int, grouped: bool) -> Any:
    if version == 2:
        from transformers.models.deepseek_v2.modeling_deepseek_v2 import DeepseekV2Moe as Block

        method = "group_limited_greedy" if grouped else "greedy"
        cfg = transformers.DeepseekV2Config(topk_method=method, routed_scaling_factor=16.0)
    else:
        from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3MoE as Block

        cfg = transformers.DeepseekV3Config(routed_scaling_factor=2.5, norm_topk_prob=True)
    cfg.hidden_size, cfg.moe_intermediate_size, cfg.n_shared_experts = 32, 16, 2
    cfg.n_routed_experts = cfg.num_experts = cfg.num_local_experts = 16
    cfg.num_experts_per_tok = 4
    cfg.n_group, cfg.topk_group = (4, 2) if grouped else (1, 1)
    cfg._experts_implementation = "eager"
    block = _randomise(Block(cfg))
    if version == 3:
        block.gate.e_score_correction_bias.normal_(std=0.1)
    return block


@pytest.mark.parametrize(
    "make",
    [
        mixtral_block,
        lambda: qwen_block(False),
        lambda: qwen_block(True),
        lambda: deepseek_block(2, grouped=False),
        lambda: deepseek_block(2, grouped=True),
        lambda: deepseek_block(3, grouped=True),
    ],
    ids=["mixtral", "qwen", "qwen-norm", "deepseek-v2", "deepseek-v2-grouped", "deepseek-v3"],
)
def test_hf_blocks_load_and_match(make: Any) -> None:
    block = make()
    layer = from_hf_block(block)
    x = torch.randn(2, 40, 32)
    with torch.no_grad():
        want, got = block(x), layer(x)
    assert torch.allclose(got, want, atol=1e-5, rtol=0)


def test_only_known_blocks_load() -> None:
    with pytest.raises(MoEConfigError, match="cannot load a Linear"):
        from_hf_block(torch.nn.Linear(2, 2))


def _configs() -> dict[str, dict[str, Any]]:
    common = {"num_hidden_layers": 1, "vocab_size": 64}
    common.update(num_attention_heads=4, num_key_value_heads=4)
    mixtral = transformers.MixtralConfig(
        hidden_size=32, intermediate_size=48, num_local_experts=8, num_experts_per_tok=2, **common
    )
    qwen = transformers.Qwen2MoeConfig(
        hidden_size=32,
        moe_intermediate_size=16,
        shared_expert_intermediate_size=64,
        num_experts=16,
        num_experts_per_tok=4,
        intermediate_size=64,
        **common,
    )
    v3 = transformers.DeepseekV3Config(
        hidden_size=32,
        moe_intermediate_size=16,
        n_routed_experts=16,
        n_shared_experts=2,
        num_experts_per_tok=4,
        n_group=4,
        topk_group=2,
        first_k_dense_replace=0,
        q_lora_rank=16,
        kv_lora_rank=16,
        **common,
    )
    return {"mixtral": mixtral.to_dict(), "qwen": qwen.to_dict(), "v3": v3.to_dict()}


@pytest.mark.parametrize("name", ["mixtral", "qwen", "v3"])
def test_weights_equal_what_plan_params_reports(name: str, tmp_path: Path) -> None:
    cfg = _configs()[name]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    result = CliRunner().invoke(cli, ["plan", "params", str(path), "--json"])
    assert result.exit_code == 0, result.output
    parts = json.loads(result.output)["components"]
    planned = parts["routed_experts"] + parts["shared_experts"] + parts["router"]
    moe_cfg = MoEConfig.from_hf_config(cfg)
    assert MoELayer(moe_cfg).num_weights() == planned == moe_cfg.total_params
    if name == "v3":
        assert moe_cfg.router == "deepseek_v3" and (moe_cfg.n_group, moe_cfg.topk_group) == (4, 2)


def test_a_dense_config_is_refused() -> None:
    with pytest.raises(MoEConfigError, match="dense model"):
        MoEConfig.from_hf_config({"hidden_size": 8, "intermediate_size": 16})
