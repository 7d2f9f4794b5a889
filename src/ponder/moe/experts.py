"""SwiGLU experts stored as stacked tensors, applied to tokens sorted by expert.

Assignments are sorted by expert once (one argsort, no per-expert mask); each expert then
takes its contiguous slice of the sorted assignments, so the work follows the tokens each
expert actually received (the active parameters), never a dense pass of every token through
every expert and never a Python loop over tokens. The loop runs over experts;
it is where a fused kernel would plug in on a GPU (vLLM's fused MoE, MegaBlocks,
ScatterMoE, or ``torch._grouped_mm``, which on CPU measured no faster than this loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


class SwiGLU(nn.Module):
    """A dense SwiGLU feed-forward block: ``down(silu(gate(x)) * up(x))``."""

    def __init__(self, hidden_size: int, intermediate: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate, bias=False)
        self.down_proj = nn.Linear(intermediate, hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class ExpertBank(nn.Module):
    """``num_experts`` SwiGLU experts; the layout of Hugging Face's ``MixtralExperts``:
    ``gate_up_proj`` [E, 2I, H] (gate rows first) and ``down_proj`` [E, H, I]."""

    def __init__(self, num_experts: int, hidden_size: int, intermediate: int) -> None:
        super().__init__()
        self.num_experts = num_experts
        self.gate_up_proj = nn.Parameter(torch.empty(num_experts, 2 * intermediate, hidden_size))
        self.down_proj = nn.Parameter(torch.empty(num_experts, hidden_size, intermediate))

    def apply_one(self, expert: int, x: torch.Tensor) -> torch.Tensor:
        gate, up = F.linear(x, self.gate_up_proj[expert]).chunk(2, dim=-1)
        return F.linear(F.silu(gate) * up, self.down_proj[expert])

    def apply_sorted(self, x: torch.Tensor, counts: list[int], first: int = 0) -> torch.Tensor:
        """Apply expert ``first + i`` to the i-th contiguous slice of ``x`` (``counts[i]`` rows)."""
        out = x.new_empty(x.shape[0], self.down_proj.shape[1])
        start = 0
        for i, n in enumerate(counts):
            if n:
                out[start : start + n] = self.apply_one(first + i, x[start : start + n])
            start += n
        return out


@dataclass(frozen=True)
class Dispatch:
    """Token-expert assignments sorted by expert, after the capacity cut.

    ``token`` [A] is the token of each kept assignment, ``weight`` [A] its gate weight,
    ``expert`` [A] its expert (non-decreasing), ``counts`` the kept assignments per expert and
    ``routed`` the assignments per expert before the cut (the load)."""

    token: torch.Tensor
    weight: torch.Tensor
    expert: torch.Tensor
    counts: torch.Tensor
    routed: torch.Tensor
    dropped: int


def capacity(tokens: int, top_k: int, num_experts: int, factor: float) -> int:
    """Token slots per expert: ``ceil(factor * tokens * top_k / num_experts)``."""
    return math.ceil(factor * tokens * top_k / num_experts)


def sort_by_expert(
    experts: torch.Tensor, weights: torch.Tensor, num_experts: int, factor: float | None
) -> Dispatch:
    """Sort the [T, K] assignments by expert (stable: earlier tokens first) and, with a
    capacity ``factor``, drop each expert's assignments beyond its capacity."""
    tokens, top_k = experts.shape
    flat = experts.reshape(-1)
    order = torch.argsort(flat, stable=True)
    expert = flat[order]
    routed = torch.bincount(flat, minlength=num_experts)
    token, weight = order // top_k, weights.reshape(-1)[order]
    if factor is None:
        return Dispatch(token, weight, expert, routed, routed, 0)
    cap = capacity(tokens, top_k, num_experts, factor)
    starts = torch.cumsum(routed, 0) - routed
    keep = torch.arange(flat.numel(), device=flat.device) - starts[expert] < cap
    counts = routed.clamp(max=cap)
    dropped = int(flat.numel() - int(counts.sum()))
    return Dispatch(token[keep], weight[keep], expert[keep], counts, routed, dropped)


def apply_dispatch(bank: ExpertBank, x: torch.Tensor, d: Dispatch) -> torch.Tensor:
    """``y_t = sum_i g_i(x_t) E_i(x_t)``, one expert at a time over its slice of the sorted
    assignments: gather its tokens, apply it, scale, add back. Each slice stays in cache,
    instead of a gathered copy of all T*K rows streaming through memory several times."""
    y = x.new_zeros(x.shape)
    start = 0
    for expert, n in enumerate(d.counts.tolist()):
        if n:
            token = d.token[start : start + n]
            out = bank.apply_one(expert, x.index_select(0, token))
            y.index_add_(0, token, out * d.weight[start : start + n, None].to(out.dtype))
        start += n
    return y


def combine(out: torch.Tensor, d: Dispatch, tokens: int) -> torch.Tensor:
    """Sum each token's weighted expert outputs: ``y_t = sum_i g_i(x_t) E_i(x_t)``."""
    scaled = out * d.weight.to(out.dtype).unsqueeze(1)
    y = out.new_zeros(tokens, out.shape[1])
    return y.index_add_(0, d.token, scaled)
