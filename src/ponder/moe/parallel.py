"""Expert parallelism over ``torch.distributed``: each rank holds ``E / world_size`` experts.

Every rank routes its own tokens with a replicated router, sends each token copy to the rank
that holds its expert (all-to-all, dispatch), applies its local experts and sends the outputs
back (all-to-all, combine). Gloo runs it on CPU; the same code takes NCCL on GPUs (move the
layer and the tokens to the rank's device). The bytes each rank sends are counted, to compare
with the planner's estimate (:func:`ponder.deploy.comm.ep_all_to_all`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ponder.moe.config import MoEConfig
from ponder.moe.errors import ExpertParallelError
from ponder.moe.experts import ExpertBank, combine, sort_by_expert
from ponder.moe.layer import MoELayer
from ponder.moe.losses import LoadStats


@dataclass(frozen=True)
class Traffic:
    """What one rank sent to other ranks in one forward pass (its own share excluded).

    ``dispatch_bytes`` and ``combine_bytes`` are hidden-state payload; ``meta_bytes`` the
    per-expert counts exchanged before the payload."""

    dispatch_bytes: int
    combine_bytes: int
    meta_bytes: int

    @property
    def payload_bytes(self) -> int:
        return self.dispatch_bytes + self.combine_bytes


@dataclass(frozen=True)
class EPOutput:
    hidden: torch.Tensor
    traffic: Traffic
    stats: LoadStats


class _AllToAll(torch.autograd.Function):
    """``all_to_all_single`` with uneven splits whose gradient is the reverse exchange."""

    @staticmethod
    def forward(
        ctx: Any, x: torch.Tensor, recv: list[int], send: list[int], group: Any
    ) -> torch.Tensor:
        ctx.splits, ctx.group = (recv, send), group
        out = x.new_empty(sum(recv), *x.shape[1:])
        dist.all_to_all_single(out, x.contiguous(), recv, send, group=group)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        recv, send = ctx.splits
        back = grad.new_empty(sum(send), *grad.shape[1:])
        dist.all_to_all_single(back, grad.contiguous(), send, recv, group=ctx.group)
        return back, None, None, None


def exchange(x: torch.Tensor, recv: list[int], send: list[int], group: Any = None) -> torch.Tensor:
    """Send ``send[r]`` rows of ``x`` to rank r; receive ``recv[r]`` rows from rank r."""
    out: torch.Tensor = _AllToAll.apply(x, recv, send, group)
    return out


def check_split(cfg: MoEConfig, world_size: int) -> None:
    """Raise :class:`ExpertParallelError` unless ``cfg`` can run over ``world_size`` ranks."""
    if world_size < 1 or cfg.num_experts % world_size:
        raise ExpertParallelError(
            f"{cfg.num_experts} experts do not split over {world_size} ranks; "
            "use a world size that divides the number of experts"
        )
    if cfg.capacity_factor is not None:
        raise ExpertParallelError("the expert-parallel layer has no capacity factor; unset it")


def _remote(split: list[int], rank: int) -> int:
    return sum(split) - split[rank]


class ExpertParallelMoE(nn.Module):
    """The expert-parallel twin of a :class:`MoELayer` on the current process group."""

    def __init__(self, layer: MoELayer, group: dist.ProcessGroup | None = None) -> None:
        super().__init__()
        if not dist.is_initialized():
            raise ExpertParallelError("call torch.distributed.init_process_group first")
        cfg = layer.cfg
        self.group, self.cfg = group, cfg
        self.world, self.rank = dist.get_world_size(group), dist.get_rank(group)
        check_split(cfg, self.world)
        self.local = cfg.num_experts // self.world
        self.replica = copy.deepcopy(layer)  # router, shared expert and V3 bias, replicated
        first, last = self.rank * self.local, (self.rank + 1) * self.local
        bank = ExpertBank(self.local, cfg.hidden_size, cfg.expert_intermediate)
        with torch.no_grad():
            bank.gate_up_proj.copy_(layer.experts.gate_up_proj[first:last])
            bank.down_proj.copy_(layer.experts.down_proj[first:last])
        self.replica.experts = bank

    def _exchange_counts(self, counts: torch.Tensor) -> torch.Tensor:
        """[world, local] assignments each source rank sends to each of my experts."""
        received = torch.empty_like(counts)
        dist.all_to_all_single(received, counts, group=self.group)
        return received.view(self.world, self.local)

    def _apply_local(self, rows: torch.Tensor, received: torch.Tensor) -> torch.Tensor:
        """Apply my experts to rows grouped by source rank, then by my expert."""
        ids = torch.arange(self.local, device=received.device).repeat(self.world)
        expert = torch.repeat_interleave(ids, received.reshape(-1))
        order = torch.argsort(expert, stable=True)
        out = self.replica.experts.apply_sorted(rows[order], received.sum(0).tolist())
        return torch.empty_like(out).index_copy(0, order, out)

    def run(self, x: torch.Tensor) -> EPOutput:
        flat = x.reshape(-1, self.cfg.hidden_size)
        routing = self.replica.routed(flat)
        d = sort_by_expert(routing.experts, routing.weights, self.cfg.num_experts, None)
        send = d.counts.view(self.world, self.local).sum(1).tolist()
        received = self._exchange_counts(d.counts)
        recv = received.sum(1).tolist()
        width = flat.shape[1]
        rows = exchange(flat[d.token], recv, send, self.group)
        back = exchange(self._apply_local(rows, received), send, recv, self.group)
        y = combine(back, d, flat.shape[0])
        extra = self.replica.shared(flat)
        if extra is not None:
            y = y + extra
        row = width * flat.element_size()
        traffic = Traffic(
            dispatch_bytes=_remote(send, self.rank) * row,
            combine_bytes=_remote(recv, self.rank) * row,
            meta_bytes=(self.world - 1) * self.local * d.counts.element_size(),
        )
        stats = LoadStats(tuple(int(n) for n in d.routed.tolist()), 0)
        return EPOutput(hidden=y.reshape(x.shape), traffic=traffic, stats=stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x).hidden
