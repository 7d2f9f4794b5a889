"""Expert-parallel communication: the bytes each GPU sends through all-to-all per MoE layer.

With expert parallelism every rank routes its own tokens, sends each token's hidden state to
the rank holding each of its top-K experts (dispatch) and gets the expert outputs back
(combine). Under even routing a share ``(EP - 1) / EP`` of the K copies leaves the rank;
the rest stays local. :class:`ponder.moe.parallel.ExpertParallelMoE` counts what it really
sends, and its tests check the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.units import fmt_bytes
from ponder.errors import PlanError


@dataclass(frozen=True)
class AllToAll:
    """Expected all-to-all traffic out of one expert-parallel rank for one MoE layer."""

    tokens: int
    hidden_size: int
    top_k: int
    ep_size: int
    bytes_per_value: int

    def __post_init__(self) -> None:
        for name in ("hidden_size", "top_k", "ep_size", "bytes_per_value"):
            if getattr(self, name) < 1:
                raise PlanError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.tokens < 0:
            raise PlanError(f"tokens must be 0 or more, got {self.tokens}")

    @property
    def remote_copies(self) -> float:
        """Token copies sent to other ranks: ``tokens * K * (EP - 1) / EP``."""
        return self.tokens * self.top_k * (self.ep_size - 1) / self.ep_size

    @property
    def dispatch_bytes(self) -> float:
        return self.remote_copies * self.hidden_size * self.bytes_per_value

    @property
    def combine_bytes(self) -> float:
        return self.dispatch_bytes

    @property
    def total_bytes(self) -> float:
        return self.dispatch_bytes + self.combine_bytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens": self.tokens,
            "ep_size": self.ep_size,
            "dispatch_bytes": self.dispatch_bytes,
            "combine_bytes": self.combine_bytes,
            "total_bytes": self.total_bytes,
        }


def ep_all_to_all(
    arch: Architecture, ep_size: int, tokens: int = 1, bytes_per_value: int = 2
) -> AllToAll:
    """Traffic of one MoE layer of ``arch`` for ``tokens`` tokens on one rank (bf16 default)."""
    if arch.moe is None:
        raise PlanError(f"{arch.name} is dense: it has no expert-parallel traffic")
    return AllToAll(tokens, arch.hidden_size, arch.moe.experts_per_token, ep_size, bytes_per_value)


def ep_traffic_sentence(arch: Architecture, ep_size: int, tokens: int) -> str:
    """One sentence on the all-to-all traffic, per token and per decode step of ``tokens``."""
    if arch.moe is None:
        return ""
    one = ep_all_to_all(arch, ep_size)
    layers = len(arch.moe.moe_layers)
    step = ep_all_to_all(arch, ep_size, tokens=tokens).total_bytes * layers
    return (
        f"All-to-all per token and MoE layer: {fmt_bytes(one.total_bytes)} out of each GPU "
        f"(dispatch + combine of {arch.moe.experts_per_token} bf16 hidden states of "
        f"{arch.hidden_size}, {ep_size - 1}/{ep_size} of them remote under even routing); "
        f"{fmt_bytes(step)} per GPU per decode step when each GPU routes {tokens} tokens "
        f"(one per request a replica holds), over its {layers} MoE layers."
    )
