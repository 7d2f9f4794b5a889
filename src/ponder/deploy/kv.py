"""KV-cache size, computed the way vLLM sizes its cache pages.

Per token and layer vLLM stores ``2 x num_kv_heads x head_dim`` elements (key and value)
for MHA, GQA and MQA, and one latent of ``kv_lora_rank + qk_rope_head_dim`` elements for
DeepSeek's multi-head latent attention (no factor 2: the latent serves both).
"""

from __future__ import annotations

from ponder.deploy.arch import Architecture
from ponder.deploy.dtypes import kv_dtype_bytes
from ponder.errors import PlanError


def kv_elements_per_token_layer(arch: Architecture) -> int:
    """Cached elements per token in one layer (whole model, no parallelism)."""
    a = arch.attention
    if a.kv_lora_rank is not None:
        return a.kv_lora_rank + a.qk_rope_head_dim
    return 2 * a.num_kv_heads * a.head_dim


def kv_bytes_per_token(arch: Architecture, dtype: str = "fp16") -> int:
    """KV-cache bytes one token takes across all layers, the figure vLLM's formula gives.

    Sliding-window layers are counted in full here; :func:`kv_bytes_for_context` caps them.
    """
    return kv_elements_per_token_layer(arch) * arch.num_layers * kv_dtype_bytes(dtype)


def kv_bytes_for_context(arch: Architecture, tokens: int, dtype: str = "fp16") -> int:
    """KV-cache bytes of one sequence of ``tokens`` tokens.

    A sliding-window layer keeps at most ``sliding_window`` tokens, as vLLM's hybrid KV
    cache manager does; other layers keep all of them.
    """
    if tokens < 0:
        raise PlanError(f"token count must not be negative, got {tokens}")
    per_layer = kv_elements_per_token_layer(arch) * kv_dtype_bytes(dtype)
    window = arch.sliding_window
    sliding = set(arch.sliding_layers)
    kept = sum(
        min(tokens, window) if (window and i in sliding) else tokens for i in range(arch.num_layers)
    )
    return per_layer * kept


def kv_heads_per_gpu(arch: Architecture, tp: int) -> int:
    """KV heads one tensor-parallel rank caches: they replicate once TP exceeds their number."""
    if arch.attention.is_mla:
        return 1
    return max(1, arch.attention.num_kv_heads // tp)


def kv_bytes_per_token_per_gpu(
    arch: Architecture, dtype: str, tp: int, layers: int | None = None
) -> int:
    """KV bytes per token on one GPU holding ``layers`` layers under tensor parallelism ``tp``.

    MLA's latent is not split by heads: every TP rank keeps the whole latent.
    """
    n_layers = arch.num_layers if layers is None else layers
    a = arch.attention
    if a.kv_lora_rank is not None:
        per_layer = a.kv_lora_rank + a.qk_rope_head_dim
    else:
        per_layer = 2 * kv_heads_per_gpu(arch, tp) * a.head_dim
    return per_layer * n_layers * kv_dtype_bytes(dtype)


def naive_kv_bytes_per_token(arch: Architecture, dtype: str = "fp16") -> int:
    """What a calculator ignoring GQA/MLA reports: ``2 x layers x hidden_size`` elements."""
    return 2 * arch.num_layers * arch.hidden_size * kv_dtype_bytes(dtype)
