"""The MoE block: ``y = sum over the top-K experts of g_i(x) E_i(x)``, plus shared experts.

Parameter names follow Hugging Face's ``MixtralSparseMoeBlock`` and
``Qwen2MoeSparseMoeBlock`` (``gate``, ``experts.gate_up_proj``, ``experts.down_proj``,
``shared_expert``, ``shared_expert_gate``), so their state dicts load as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ponder.moe.config import MoEConfig
from ponder.moe.errors import MoEConfigError
from ponder.moe.experts import Dispatch, ExpertBank, SwiGLU, apply_dispatch, sort_by_expert
from ponder.moe.losses import LoadStats, load_balancing_loss, router_z_loss
from ponder.moe.routing import Routing, balance_bias, route


@dataclass(frozen=True)
class MoEOutput:
    """The block's output [..., H] with the training signals of this batch."""

    hidden: torch.Tensor
    aux_loss: torch.Tensor
    z_loss: torch.Tensor
    stats: LoadStats
    routing: Routing


class MoELayer(nn.Module):
    """A sparse MoE feed-forward block for tokens of width ``cfg.hidden_size``.

    ``layer(x)`` returns the output; ``layer.run(x)`` also returns the load-balancing loss,
    the router z-loss and the per-expert load of the batch."""

    e_score_correction_bias: torch.Tensor

    def __init__(self, cfg: MoEConfig, init_std: float = 0.02) -> None:
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden_size
        self.gate = nn.Linear(h, cfg.num_experts, bias=False)
        self.experts = ExpertBank(cfg.num_experts, h, cfg.expert_intermediate)
        self.shared_expert = SwiGLU(h, cfg.shared_intermediate) if cfg.shared_intermediate else None
        self.shared_expert_gate = nn.Linear(h, 1, bias=False) if cfg.shared_expert_gate else None
        if cfg.router == "deepseek_v3":
            self.register_buffer("e_score_correction_bias", torch.zeros(cfg.num_experts))
        self.reset_parameters(init_std)

    def reset_parameters(self, std: float = 0.02) -> None:
        """Normal(0, std) weights, as Hugging Face initialises these models."""
        for p in self.parameters():
            nn.init.normal_(p, std=std)

    def _selection_bias(self) -> torch.Tensor | None:
        return self.e_score_correction_bias if self.cfg.router == "deepseek_v3" else None

    def routed(self, x: torch.Tensor) -> Routing:
        """Route ``x`` [T, H]."""
        return route(self.gate(x), self.cfg, self._selection_bias())

    def shared(self, x: torch.Tensor) -> torch.Tensor | None:
        """The shared expert's contribution for ``x`` [T, H], or None without one."""
        if self.shared_expert is None:
            return None
        out = self.shared_expert(x)
        if self.shared_expert_gate is not None:
            out = torch.sigmoid(self.shared_expert_gate(x)) * out
        return out

    def _moe(self, flat: torch.Tensor) -> tuple[torch.Tensor, Routing, Dispatch]:
        routing = self.routed(flat)
        d = sort_by_expert(routing.experts, routing.weights, self.cfg.num_experts, self.capacity)
        y = apply_dispatch(self.experts, flat, d)
        extra = self.shared(flat)
        return (y if extra is None else y + extra), routing, d

    def run(self, x: torch.Tensor) -> MoEOutput:
        """The output for ``x`` [..., H] and the batch's training signals."""
        y, routing, d = self._moe(x.reshape(-1, self.cfg.hidden_size))
        return MoEOutput(
            hidden=y.reshape(x.shape),
            aux_loss=load_balancing_loss(routing.probs, routing.experts),
            z_loss=router_z_loss(routing.logits),
            stats=LoadStats(tuple(int(n) for n in d.routed.tolist()), d.dropped),
            routing=routing,
        )

    @property
    def capacity(self) -> float | None:
        return self.cfg.capacity_factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The output for ``x`` [..., H] (no losses or statistics: use ``run`` to train)."""
        return self._moe(x.reshape(-1, self.cfg.hidden_size))[0].reshape(x.shape)

    @torch.no_grad()
    def update_bias(self, stats: LoadStats, rate: float = 1e-3) -> None:
        """DeepSeek-V3's auxiliary-loss-free balancing step after a batch (V3 router only)."""
        if self.cfg.router != "deepseek_v3":
            raise MoEConfigError("update_bias needs router='deepseek_v3' (the biased router)")
        load = torch.tensor(stats.tokens_per_expert, device=self.e_score_correction_bias.device)
        self.e_score_correction_bias.copy_(balance_bias(self.e_score_correction_bias, load, rate))

    def num_weights(self) -> int:
        """Every stored weight (parameters and the V3 bias): what a checkpoint holds."""
        return sum(t.numel() for t in self.state_dict().values())
