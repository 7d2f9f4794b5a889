"""Parameter counts, per layer and per component, for dense and MoE models.

Conventions (the ones the model publishers use):
- ``total`` is every weight vLLM loads: embeddings, the output head (once if tied), all
  experts. DeepSeek's multi-token-prediction module is counted apart (``mtp``), as
  DeepSeek's 671B figure leaves it out.
- ``active`` is ``total`` minus the routed experts a token does not visit (Mistral and Qwen
  report this). ``active_matmul`` also drops the input-embedding lookup, which costs no
  multiply; DeepSeek reports this one (36.6B for V3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the architecture asks this module for its counts
    from ponder.deploy.arch import Architecture


@dataclass(frozen=True)
class LayerParams:
    """One decoder layer. ``attn_replicated`` are weights vLLM keeps whole on every TP rank."""

    index: int
    q_proj: int
    kv_proj: int
    o_proj: int
    attn_replicated: int
    norms: int
    dense_mlp: int
    expert: int = 0
    num_experts: int = 0
    top_k: int = 0
    shared_experts: int = 0
    router: int = 0

    @property
    def attention(self) -> int:
        return self.q_proj + self.kv_proj + self.o_proj + self.attn_replicated

    @property
    def routed_experts(self) -> int:
        return self.expert * self.num_experts

    @property
    def total(self) -> int:
        return (
            self.attention
            + self.norms
            + self.dense_mlp
            + self.routed_experts
            + self.shared_experts
            + self.router
        )

    @property
    def active(self) -> int:
        return self.total - self.expert * (self.num_experts - self.top_k)


@dataclass(frozen=True)
class ParamBreakdown:
    """Parameter counts of a whole model."""

    embedding: int
    lm_head: int
    final_norm: int
    layers: tuple[LayerParams, ...]
    mtp: int = 0

    @property
    def total(self) -> int:
        return self.embedding + self.lm_head + self.final_norm + sum(x.total for x in self.layers)

    @property
    def active(self) -> int:
        return self.embedding + self.lm_head + self.final_norm + sum(x.active for x in self.layers)

    @property
    def active_matmul(self) -> int:
        """Active parameters without the input-embedding lookup (kept when tied: it is the head)."""
        return self.active - (self.embedding if self.lm_head else 0)

    def components(self) -> dict[str, int]:
        """Total parameters by component, in a stable order."""
        layer_sum = {
            "attention": sum(x.attention for x in self.layers),
            "norms": sum(x.norms for x in self.layers) + self.final_norm,
            "dense_mlp": sum(x.dense_mlp for x in self.layers),
            "routed_experts": sum(x.routed_experts for x in self.layers),
            "shared_experts": sum(x.shared_experts for x in self.layers),
            "router": sum(x.router for x in self.layers),
        }
        return {"embedding": self.embedding, "lm_head": self.lm_head, **layer_sum}


def _attention_params(arch: Architecture) -> tuple[int, int, int, int]:
    """(q_proj, kv_proj, o_proj, replicated) parameters of one attention block."""
    a, h = arch.attention, arch.hidden_size
    if a.kv_lora_rank is not None:
        qk_dim = a.qk_nope_head_dim + a.qk_rope_head_dim
        replicated = h * (a.kv_lora_rank + a.qk_rope_head_dim) + a.kv_lora_rank
        if a.q_lora_rank:
            replicated += h * a.q_lora_rank + a.q_lora_rank
            q = a.q_lora_rank * a.num_heads * qk_dim
        else:
            q = h * a.num_heads * qk_dim
        kv = a.kv_lora_rank * a.num_heads * (a.qk_nope_head_dim + a.v_head_dim)
        return q, kv, a.num_heads * a.v_head_dim * h, replicated
    q_width, kv_width = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    q = h * q_width + (q_width if a.qkv_bias else 0)
    kv = 2 * (h * kv_width + (kv_width if a.qkv_bias else 0))
    o = q_width * h + (h if a.o_bias else 0)
    return q, kv, o, 2 * a.head_dim if a.qk_norm else 0


def mlp_params(arch: Architecture, width: int) -> int:
    """One feed-forward block of the given intermediate width."""
    h = arch.hidden_size
    mats = 3 if arch.mlp_gated else 2
    bias = (width * (mats - 1) + h) if arch.mlp_bias else 0
    return mats * h * width + bias


def layer_params(arch: Architecture, index: int) -> LayerParams:
    """The parameters of decoder layer ``index``."""
    q, kv, o, replicated = _attention_params(arch)
    base = {
        "index": index,
        "q_proj": q,
        "kv_proj": kv,
        "o_proj": o,
        "attn_replicated": replicated,
        "norms": arch.norms_per_layer * arch.hidden_size,
    }
    moe = arch.moe
    if moe is None or index not in moe.moe_layers:
        return LayerParams(dense_mlp=mlp_params(arch, arch.intermediate_size), **base)
    shared = mlp_params(arch, moe.shared_intermediate) if moe.shared_intermediate else 0
    router = arch.hidden_size * moe.num_experts + (moe.num_experts if moe.router_bias else 0)
    return LayerParams(
        dense_mlp=0,
        expert=mlp_params(arch, moe.expert_intermediate),
        num_experts=moe.num_experts,
        top_k=moe.experts_per_token,
        shared_experts=shared + (arch.hidden_size if moe.shared_expert_gate else 0),
        router=router,
        **base,
    )


def _mtp_params(arch: Architecture) -> int:
    """DeepSeek-V3's next-token-prediction module: two norms, a 2h->h projection, one layer."""
    if not arch.mtp_layers:
        return 0
    h = arch.hidden_size
    one = 3 * h + 2 * h * h + layer_params(arch, arch.num_layers - 1).total
    return arch.mtp_layers * one


def count_params(arch: Architecture) -> ParamBreakdown:
    """Count the parameters of ``arch`` component by component."""
    embedding = arch.vocab_size * arch.hidden_size
    return ParamBreakdown(
        embedding=embedding,
        lm_head=0 if arch.tie_embeddings else embedding,
        final_norm=arch.hidden_size,
        layers=tuple(layer_params(arch, i) for i in range(arch.num_layers)),
        mtp=_mtp_params(arch),
    )
