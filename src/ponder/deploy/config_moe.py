"""The mixture-of-experts part of a ``config.json``: Mixtral, Qwen-MoE and DeepSeek styles."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ponder.deploy.arch import MoE
from ponder.errors import ArchitectureError


def _top_k(cfg: Mapping[str, Any], experts: int) -> int:
    k = cfg.get("num_experts_per_tok")
    if not isinstance(k, int) or not 0 < k <= experts:
        raise ArchitectureError(
            f"a MoE config with {experts} experts needs 'num_experts_per_tok' between 1 and "
            f"{experts} (got {k!r}); add the number of experts each token is routed to"
        )
    return k


def is_deepseek_v3_router(cfg: Mapping[str, Any]) -> bool:
    """DeepSeek-V3's sigmoid router with its selection bias (``e_score_correction_bias``):
    named by ``topk_method: noaux_tc``, or implied by the model type (Hugging Face's
    ``DeepseekV3Config`` has no ``topk_method`` field)."""
    method = cfg.get("topk_method")
    return method == "noaux_tc" or (method is None and cfg.get("model_type") == "deepseek_v3")


def _deepseek(cfg: Mapping[str, Any], layers: int) -> MoE:
    experts = int(cfg["n_routed_experts"])
    width = cfg.get("moe_intermediate_size")
    if not width:
        raise ArchitectureError("DeepSeek-style MoE needs 'moe_intermediate_size'; add it")
    first_dense = int(cfg.get("first_k_dense_replace") or 0)
    freq = int(cfg.get("moe_layer_freq") or 1)
    return MoE(
        num_experts=experts,
        experts_per_token=_top_k(cfg, experts),
        expert_intermediate=width,
        moe_layers=tuple(i for i in range(layers) if i >= first_dense and i % freq == 0),
        shared_intermediate=int(cfg.get("n_shared_experts") or 0) * width,
        router_bias=is_deepseek_v3_router(cfg),
        style="deepseek",
    )


def _qwen(cfg: Mapping[str, Any], layers: int) -> MoE:
    experts = int(cfg["num_experts"])
    width = cfg.get("moe_intermediate_size")
    if not width:
        raise ArchitectureError("Qwen-style MoE needs 'moe_intermediate_size'; add it")
    step = int(cfg.get("decoder_sparse_step") or 1)
    dense_only = set(cfg.get("mlp_only_layers") or ())
    shared = int(cfg.get("shared_expert_intermediate_size") or 0)
    return MoE(
        num_experts=experts,
        experts_per_token=_top_k(cfg, experts),
        expert_intermediate=width,
        moe_layers=tuple(i for i in range(layers) if i not in dense_only and (i + 1) % step == 0),
        shared_intermediate=shared,
        shared_expert_gate=shared > 0,
        style="qwen",
    )


def _mixtral(cfg: Mapping[str, Any], layers: int) -> MoE:
    experts = int(cfg["num_local_experts"])
    width = cfg.get("moe_intermediate_size") or cfg.get("intermediate_size")
    if not width:
        raise ArchitectureError("Mixtral-style MoE needs 'intermediate_size'; add it")
    return MoE(
        num_experts=experts,
        experts_per_token=_top_k(cfg, experts),
        expert_intermediate=int(width),
        moe_layers=tuple(range(layers)),
        style="mixtral",
    )


def parse_moe(cfg: Mapping[str, Any], layers: int) -> MoE | None:
    """The MoE description of a config, or None for a dense model."""
    if cfg.get("n_routed_experts"):
        return _deepseek(cfg, layers)
    if cfg.get("num_local_experts"):
        return _mixtral(cfg, layers)
    if cfg.get("num_experts"):
        return _qwen(cfg, layers)
    return None
