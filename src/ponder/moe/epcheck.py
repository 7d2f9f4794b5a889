"""The expert-parallel layer against the single-process one: outputs, bytes and time.

Every rank builds the same full layer from a seed, keeps its experts, and runs its share of
one batch; :func:`compare` gathers the outputs, recomputes the whole batch with the
single-process layer and reports the largest difference and each rank's traffic.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ponder.moe.config import MoEConfig
from ponder.moe.launch import run_ranks
from ponder.moe.layer import MoELayer
from ponder.moe.parallel import ExpertParallelMoE, check_split


def build(cfg: MoEConfig, seed: int, balanced: bool) -> MoELayer:
    """A seeded layer; ``balanced`` sets a router that sends token t to experts t..t+K-1."""
    torch.manual_seed(seed)
    layer = MoELayer(cfg)
    if balanced:
        if cfg.hidden_size < cfg.num_experts:
            raise ValueError("a balanced router needs hidden_size >= num_experts")
        with torch.no_grad():
            layer.gate.weight.zero_()
            layer.gate.weight[:, : cfg.num_experts] = 10 * torch.eye(cfg.num_experts)
    return layer


def batch(cfg: MoEConfig, tokens: int, seed: int, balanced: bool) -> torch.Tensor:
    """``tokens`` inputs; balanced ones put weight K-j on dimension (t + j) mod E."""
    gen = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(tokens, cfg.hidden_size, generator=gen)
    if balanced:
        x[:, : cfg.num_experts] = 0
        t = torch.arange(tokens)
        for j in range(cfg.top_k):
            x[t, (t + j) % cfg.num_experts] = float(cfg.top_k - j)
    return x


@dataclass(frozen=True)
class RankResult:
    output: np.ndarray
    dispatch_bytes: int
    combine_bytes: int
    meta_bytes: int
    seconds: float


def _rank(
    rank: int, world: int, cfg: MoEConfig, tokens: int, seed: int, balanced: bool, repeats: int
) -> RankResult:
    layer = build(cfg, seed, balanced)
    mine = batch(cfg, tokens * world, seed, balanced)[rank * tokens : (rank + 1) * tokens]
    ep = ExpertParallelMoE(layer)
    with torch.no_grad():
        out = ep.run(mine)
        start = time.perf_counter()
        for _ in range(repeats):
            ep.run(mine)
        seconds = (time.perf_counter() - start) / max(repeats, 1)
    t = out.traffic
    return RankResult(out.hidden.numpy(), t.dispatch_bytes, t.combine_bytes, t.meta_bytes, seconds)


@dataclass(frozen=True)
class Comparison:
    world_size: int
    max_abs_diff: float
    ranks: list[RankResult]


def compare(
    cfg: MoEConfig,
    world_size: int,
    tokens_per_rank: int,
    seed: int = 0,
    balanced: bool = False,
    repeats: int = 0,
    timeout: float = 60.0,
    start_method: str | None = None,
) -> Comparison:
    """Run the expert-parallel layer on ``world_size`` processes and compare with one."""
    check_split(cfg, world_size)
    args = (cfg, tokens_per_rank, seed, balanced, repeats)
    ranks = run_ranks(_rank, world_size, *args, timeout=timeout, start_method=start_method)
    layer = build(cfg, seed, balanced)
    with torch.no_grad():
        ref = layer(batch(cfg, tokens_per_rank * world_size, seed, balanced)).numpy()
    got = np.concatenate([r.output for r in ranks])
    return Comparison(world_size, float(np.abs(got - ref).max()), ranks)


def summary(result: Comparison, cfg: MoEConfig) -> dict[str, Any]:
    """The comparison with the planner's estimate of each rank's all-to-all bytes."""
    from ponder.deploy.comm import AllToAll

    tokens = result.ranks[0].output.shape[0]
    row_bytes = result.ranks[0].output.itemsize
    est = AllToAll(tokens, cfg.hidden_size, cfg.top_k, result.world_size, row_bytes)
    ranks = [
        {
            "rank": i,
            "payload_bytes": r.dispatch_bytes + r.combine_bytes,
            "dispatch_bytes": r.dispatch_bytes,
            "combine_bytes": r.combine_bytes,
            "meta_bytes": r.meta_bytes,
            "ms_per_layer": r.seconds * 1e3,
        }
        for i, r in enumerate(result.ranks)
    ]
    return {
        "world_size": result.world_size,
        "max_abs_diff": result.max_abs_diff,
        "planner_bytes": est.total_bytes,
        "ranks": ranks,
    }


def _grad_rank(rank: int, world: int, cfg: MoEConfig, tokens: int, seed: int) -> dict[str, Any]:
    layer = build(cfg, seed, balanced=False)
    x = batch(cfg, tokens * world, seed, False)[rank * tokens : (rank + 1) * tokens]
    x.requires_grad_(True)
    ep = ExpertParallelMoE(layer)
    ep(x).square().sum().backward()
    grads = {
        name: p.grad.numpy() for name, p in ep.replica.named_parameters() if p.grad is not None
    }
    return {"x": x.grad.numpy() if x.grad is not None else None, **grads}


def compare_grads(cfg: MoEConfig, world_size: int, tokens_per_rank: int, seed: int = 0) -> float:
    """Largest difference between the gradients of ``sum(y^2)`` under expert parallelism and
    in one process: inputs, each rank's experts, and the router and shared expert (summed over
    ranks, as data-parallel training all-reduces them)."""
    check_split(cfg, world_size)
    ranks = run_ranks(_grad_rank, world_size, cfg, tokens_per_rank, seed)
    layer = build(cfg, seed, balanced=False)
    x = batch(cfg, tokens_per_rank * world_size, seed, False).requires_grad_(True)
    (x_grad, *grads) = torch.autograd.grad(
        layer(x).square().sum(), [x, *layer.parameters()], allow_unused=True
    )
    names = [name for name, _ in layer.named_parameters()]
    want = {n: g.numpy() for n, g in zip(names, grads, strict=True) if g is not None}
    diffs = [np.abs(np.concatenate([r["x"] for r in ranks]) - x_grad.numpy()).max()]
    for name, full in want.items():
        if name.startswith("experts."):
            got = np.concatenate([r[name] for r in ranks])
        else:
            got = np.sum([r[name] for r in ranks], axis=0)
        diffs.append(np.abs(got - full).max())
    return float(max(diffs))
