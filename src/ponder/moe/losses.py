"""Training signals of a MoE layer: the load-balancing loss, the router z-loss and the
per-expert load a user logs or plots."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch


def load_balancing_loss(probs: torch.Tensor, experts: torch.Tensor) -> torch.Tensor:
    """Switch Transformer's auxiliary loss as Mixtral computes it (Hugging Face's
    ``load_balancing_loss_func``): ``E * sum_i f_i * P_i``, where ``f_i`` is the share of tokens
    whose top-K includes expert ``i`` and ``P_i`` the mean router probability of expert ``i``.
    It equals ``K`` when routing is perfectly uniform (1 for Switch's top-1)."""
    tokens, num_experts = probs.shape
    counts = torch.bincount(experts.reshape(-1), minlength=num_experts)
    share = counts.to(probs.dtype) / tokens
    return num_experts * torch.sum(share * probs.mean(dim=0))


def router_z_loss(logits: torch.Tensor) -> torch.Tensor:
    """ST-MoE's router z-loss: the mean over tokens of ``logsumexp(logits)^2``; it keeps router
    logits small so that the fp32 softmax stays well conditioned."""
    return torch.logsumexp(logits.float(), dim=-1).square().mean()


@dataclass(frozen=True)
class LoadStats:
    """How a batch was spread over the experts.

    ``tokens_per_expert`` counts token-expert assignments routed to each expert (before any
    capacity cut); ``entropy`` is the entropy (nats) of that distribution, at most
    ``log(num_experts)``; ``dropped`` counts assignments cut by the capacity factor."""

    tokens_per_expert: tuple[int, ...]
    dropped: int

    @property
    def num_experts(self) -> int:
        return len(self.tokens_per_expert)

    @property
    def entropy(self) -> float:
        total = sum(self.tokens_per_expert)
        shares = [n / total for n in self.tokens_per_expert if n] if total else []
        return -sum(p * math.log(p) for p in shares)

    @property
    def balance(self) -> float:
        """Entropy over its maximum: 1.0 is a perfectly even load."""
        return self.entropy / math.log(self.num_experts) if self.num_experts > 1 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "tokens_per_expert": list(self.tokens_per_expert),
            "entropy": self.entropy,
            "balance": self.balance,
            "dropped": self.dropped,
        }
