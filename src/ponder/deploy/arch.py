"""The architecture of a decoder-only transformer, as the planner needs it.

Built from a Hugging Face ``config.json`` by :mod:`ponder.deploy.config`; the counting is in
:mod:`ponder.deploy.params` and the KV cache in :mod:`ponder.deploy.kv`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Literal

from ponder.deploy.params import ParamBreakdown, count_params
from ponder.errors import ArchitectureError

AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


@dataclass(frozen=True)
class Attention:
    """Attention shape. For MLA, ``num_kv_heads`` equals ``num_heads`` (weights are per head)."""

    num_heads: int
    num_kv_heads: int
    head_dim: int
    qkv_bias: bool = False
    o_bias: bool = False
    qk_norm: bool = False
    q_lora_rank: int | None = None
    kv_lora_rank: int | None = None
    qk_rope_head_dim: int = 0
    qk_nope_head_dim: int = 0
    v_head_dim: int = 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def kind(self) -> AttentionKind:
        if self.is_mla:
            return "mla"
        if self.num_kv_heads == self.num_heads:
            return "mha"
        return "mqa" if self.num_kv_heads == 1 else "gqa"


@dataclass(frozen=True)
class MoE:
    """Mixture-of-experts feed-forward: routed experts, optional shared experts."""

    num_experts: int
    experts_per_token: int
    expert_intermediate: int
    moe_layers: tuple[int, ...]
    shared_intermediate: int = 0
    shared_expert_gate: bool = False
    router_bias: bool = False
    style: str = "mixtral"


@dataclass(frozen=True)
class Architecture:
    """Everything about a model that decides its parameters, memory and KV cache."""

    name: str
    model_type: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    intermediate_size: int
    attention: Attention
    moe: MoE | None = None
    tie_embeddings: bool = False
    mlp_gated: bool = True
    mlp_bias: bool = False
    norms_per_layer: int = 2
    max_context: int | None = None
    sliding_window: int | None = None
    sliding_layers: tuple[int, ...] = ()
    weight_dtype: str = "bf16"
    mtp_layers: int = 0
    hf_id: str | None = None
    source: str | None = None
    unknown_fields: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = field(default=())

    @cached_property
    def params(self) -> ParamBreakdown:
        """Per-component parameter counts."""
        return count_params(self)

    @property
    def total_params(self) -> int:
        """All parameters loaded for serving (DeepSeek's MTP module excluded, see ``params``)."""
        return self.params.total

    @property
    def active_params(self) -> int:
        """Parameters used per token: total minus the routed experts a token does not visit."""
        return self.params.active

    @property
    def is_moe(self) -> bool:
        return self.moe is not None

    def with_kv_heads(self, num_kv_heads: int) -> Architecture:
        """The same model with a different number of KV heads (e.g. to compare MHA with GQA)."""
        heads = self.attention.num_heads
        if self.attention.is_mla or num_kv_heads <= 0 or heads % num_kv_heads:
            raise ArchitectureError(
                f"{num_kv_heads} KV heads do not fit {self.name}: choose a divisor of its "
                f"{heads} attention heads (and not an MLA model)"
            )
        attn = replace(self.attention, num_kv_heads=num_kv_heads)
        return replace(self, attention=attn, name=f"{self.name} (kv_heads={num_kv_heads})")
