"""Load the weights of a Hugging Face MoE block (transformers >= 5 layout) into a MoELayer.

Supported: ``MixtralSparseMoeBlock`` and ``Qwen2MoeSparseMoeBlock``, whose experts are stored
as stacked ``gate_up_proj`` [E, 2I, H] and ``down_proj`` [E, H, I] tensors. Their state dicts
use the same names as :class:`~ponder.moe.layer.MoELayer`, so they load as they are.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ponder.moe.config import MoEConfig
from ponder.moe.errors import MoEConfigError
from ponder.moe.layer import MoELayer

_KINDS = {"MixtralSparseMoeBlock": "mixtral", "Qwen2MoeSparseMoeBlock": "qwen"}


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
    return MoEConfig(**fields)


def from_hf_block(block: nn.Module) -> MoELayer:
    """A MoELayer with the config and the weights of a Hugging Face MoE block."""
    name = type(block).__name__
    router = _KINDS.get(name)
    if router is None:
        raise MoEConfigError(f"cannot load a {name}; supported blocks: {sorted(_KINDS)}")
    layer = MoELayer(_config_of(block, router))
    ref = next(block.parameters())
    layer.to(device=ref.device, dtype=ref.dtype)
    layer.load_state_dict(block.state_dict(), strict=True)
    return layer
