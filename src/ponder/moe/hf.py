"""Load the weights of a Hugging Face MoE block (transformers >= 5 layout) into a MoELayer.

Supported: ``MixtralSparseMoeBlock``, ``Qwen2MoeSparseMoeBlock``, ``DeepseekV2Moe`` and
``DeepseekV3MoE``, whose experts are stored as stacked ``gate_up_proj`` [E, 2I, H] and
``down_proj`` [E, H, I] tensors. Mixtral and Qwen state dicts use the names of
:class:`~ponder.moe.layer.MoELayer` as they are; DeepSeek's shared experts and router bias
are renamed.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ponder.moe.config import MoEConfig
from ponder.moe.errors import MoEConfigError
from ponder.moe.layer import MoELayer

_KINDS = {
    "MixtralSparseMoeBlock": "mixtral",
    "Qwen2MoeSparseMoeBlock": "qwen",
    "DeepseekV2Moe": "deepseek_v2",
    "DeepseekV3MoE": "deepseek_v3",
}
_RENAMES = {"gate.e_score_correction_bias": "e_score_correction_bias"}


def _deepseek_fields(block: Any, router: str) -> dict[str, Any]:
    gate = block.gate
    grouped = router == "deepseek_v3" or gate.topk_method == "group_limited_greedy"
    return {
        "shared_intermediate": block.shared_experts.gate_proj.weight.shape[0],
        "routed_scaling_factor": float(gate.routed_scaling_factor),
        "norm_topk_prob": router == "deepseek_v3" and bool(gate.norm_topk_prob),
        "n_group": int(gate.num_group) if grouped else 1,
        "topk_group": int(gate.topk_group) if grouped else 1,
    }


def _config_of(block: Any, router: str) -> MoEConfig:
    gate_up = getattr(getattr(block, "experts", None), "gate_up_proj", None)
    if not isinstance(gate_up, nn.Parameter) or gate_up.dim() != 3:
        raise MoEConfigError(
            f"{type(block).__name__} has no stacked experts.gate_up_proj [E, 2I, H]: "
            "load it with transformers >= 5, which stores experts that way"
        )
    num_experts, double, hidden = gate_up.shape
    fields: dict[str, Any] = {
        "hidden_size": hidden,
        "expert_intermediate": double // 2,
        "num_experts": num_experts,
        "top_k": int(block.gate.top_k),
        "router": router,
    }
    if router == "qwen":
        shared = block.shared_expert.gate_proj.weight.shape[0]
        fields.update(
            norm_topk_prob=bool(block.gate.norm_topk_prob),
            shared_intermediate=shared,
            shared_expert_gate=True,
        )
    elif router.startswith("deepseek"):
        fields.update(_deepseek_fields(block, router))
    return MoEConfig(**fields)


def _rename(key: str) -> str:
    if key in _RENAMES:
        return _RENAMES[key]
    return (
        "shared_expert." + key.removeprefix("shared_experts.")
        if key.startswith("shared_experts.")
        else key
    )


def from_hf_block(block: nn.Module) -> MoELayer:
    """A MoELayer with the config and the weights of a Hugging Face MoE block."""
    name = type(block).__name__
    router = _KINDS.get(name)
    if router is None:
        raise MoEConfigError(f"cannot load a {name}; supported blocks: {sorted(_KINDS)}")
    layer = MoELayer(_config_of(block, router))
    ref = next(block.parameters())
    layer.to(device=ref.device, dtype=ref.dtype)
    state = {_rename(k): v for k, v in block.state_dict().items()}
    layer.load_state_dict(state, strict=True)
    return layer
