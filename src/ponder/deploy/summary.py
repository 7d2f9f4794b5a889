"""Plain-dict summaries of an architecture's parameters and KV cache (for JSON and tables)."""

from __future__ import annotations

from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.dtypes import WEIGHT_FORMATS, kv_dtype_bytes
from ponder.deploy.kv import (
    kv_bytes_for_context,
    kv_bytes_per_token,
    kv_elements_per_token_layer,
    naive_kv_bytes_per_token,
)
from ponder.deploy.memory import weight_bytes

_SHOWN_FORMATS = ("fp32", "bf16", "fp8", "int8", "int4", "awq", "q8_0", "q4_k_m")


def params_summary(arch: Architecture) -> dict[str, Any]:
    """Totals, per-component breakdown, weight memory per format, and what was assumed."""
    p = arch.params
    moe = arch.moe
    return {
        "model": arch.name,
        "hf_id": arch.hf_id,
        "source": arch.source,
        "model_type": arch.model_type,
        "attention": arch.attention.kind,
        "layers": arch.num_layers,
        "total_params": p.total,
        "active_params": p.active,
        "active_matmul_params": p.active_matmul,
        "mtp_params_not_loaded": p.mtp,
        "components": p.components(),
        "moe": None
        if moe is None
        else {
            "style": moe.style,
            "experts": moe.num_experts,
            "top_k": moe.experts_per_token,
            "expert_intermediate": moe.expert_intermediate,
            "moe_layers": len(moe.moe_layers),
            "shared_intermediate": moe.shared_intermediate,
        },
        "tied_embeddings": arch.tie_embeddings,
        "checkpoint_dtype": arch.weight_dtype,
        "weight_bytes": {
            name: weight_bytes(arch, name) for name in _SHOWN_FORMATS if name in WEIGHT_FORMATS
        },
        "unknown_fields": list(arch.unknown_fields),
        "assumptions": list(arch.assumptions),
    }


def kv_summary(arch: Architecture, context: int, kv_dtype: str = "auto") -> dict[str, Any]:
    """KV bytes per token and per request, with the figure a GQA-blind calculator reports."""
    a = arch.attention
    per_token = kv_bytes_per_token(arch, kv_dtype)
    naive = naive_kv_bytes_per_token(arch, kv_dtype)
    return {
        "model": arch.name,
        "attention": a.kind,
        "kv_dtype": kv_dtype,
        "bytes_per_element": kv_dtype_bytes(kv_dtype),
        "layers": arch.num_layers,
        "kv_heads": None if a.is_mla else a.num_kv_heads,
        "head_dim": None if a.is_mla else a.head_dim,
        "elements_per_token_per_layer": kv_elements_per_token_layer(arch),
        "bytes_per_token": per_token,
        "context": context,
        "bytes_per_request": kv_bytes_for_context(arch, context, kv_dtype),
        "sliding_window": arch.sliding_window,
        "sliding_layers": len(arch.sliding_layers),
        "naive_bytes_per_token": naive,
        "naive_overstatement": round(naive / per_token, 2),
    }
