"""Routers: router logits -> the top-K experts of each token and their weights.

All scoring runs in fp32, as Mixtral, Qwen-MoE and DeepSeek do, whatever the input dtype.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ponder.moe.config import MoEConfig


@dataclass(frozen=True)
class Routing:
    """The routing of ``T`` tokens.

    ``experts`` [T, K] (int64) and ``weights`` [T, K] (fp32) are what the experts use;
    ``probs`` [T, E] is each token's distribution over experts (softmax, or the sigmoid scores
    normalised to sum to one) that the load-balancing loss pushes towards uniform;
    ``logits`` [T, E] are the raw router logits (for the z-loss).
    """

    experts: torch.Tensor
    weights: torch.Tensor
    probs: torch.Tensor
    logits: torch.Tensor


def _keep_groups(scores: torch.Tensor, cfg: MoEConfig, group_scores: torch.Tensor) -> torch.Tensor:
    """``scores`` with every expert outside each token's best ``topk_group`` groups at -inf."""
    best = torch.topk(group_scores, cfg.topk_group, dim=-1).indices
    keep = torch.zeros_like(group_scores, dtype=torch.bool).scatter_(1, best, True)
    per_group = cfg.num_experts // cfg.n_group
    keep = keep.repeat_interleave(per_group, dim=1)
    return scores.masked_fill(~keep, float("-inf"))


def _grouped(scores: torch.Tensor, cfg: MoEConfig, two_best: bool) -> torch.Tensor:
    if cfg.n_group == 1:
        return scores
    tokens = scores.shape[0]
    by_group = scores.view(tokens, cfg.n_group, -1)
    if two_best:
        group_scores = torch.topk(by_group, 2, dim=-1).values.sum(dim=-1)
    else:
        group_scores = by_group.max(dim=-1).values
    return _keep_groups(scores, cfg, group_scores)


def _renormalise(weights: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    return weights / (weights.sum(dim=-1, keepdim=True) + eps)


def _softmax_route(logits: torch.Tensor, cfg: MoEConfig) -> Routing:
    probs = torch.softmax(logits.float(), dim=-1)
    choose = _grouped(probs, cfg, two_best=False)
    top, experts = torch.topk(choose, cfg.top_k, dim=-1)
    if cfg.router == "mixtral" or (cfg.router == "qwen" and cfg.norm_topk_prob):
        top = _renormalise(top)
    elif cfg.router == "deepseek_v2":
        if cfg.top_k > 1 and cfg.norm_topk_prob:
            top = _renormalise(top, eps=1e-20)
        else:
            top = top * cfg.routed_scaling_factor
    return Routing(experts=experts, weights=top, probs=probs, logits=logits)


def _sigmoid_route(logits: torch.Tensor, cfg: MoEConfig, bias: torch.Tensor) -> Routing:
    scores = torch.sigmoid(logits.float())
    choose = _grouped(scores + bias.float(), cfg, two_best=True)
    experts = torch.topk(choose, cfg.top_k, dim=-1).indices
    weights = scores.gather(1, experts)
    if cfg.norm_topk_prob:
        weights = _renormalise(weights, eps=1e-20)
    weights = weights * cfg.routed_scaling_factor
    probs = _renormalise(scores, eps=1e-20)
    return Routing(experts=experts, weights=weights, probs=probs, logits=logits)


def route(logits: torch.Tensor, cfg: MoEConfig, bias: torch.Tensor | None = None) -> Routing:
    """Route tokens from their router ``logits`` [T, E]; ``bias`` [E] is DeepSeek-V3's
    selection-only bias (zeros when omitted)."""
    if cfg.router == "deepseek_v3":
        if bias is None:
            bias = torch.zeros(cfg.num_experts, device=logits.device)
        return _sigmoid_route(logits, cfg, bias)
    return _softmax_route(logits, cfg)


def balance_bias(bias: torch.Tensor, tokens_per_expert: torch.Tensor, rate: float) -> torch.Tensor:
    """DeepSeek-V3's auxiliary-loss-free balancing: raise the bias of under-loaded experts and
    lower that of over-loaded ones by ``rate`` (the paper's update speed gamma)."""
    load = tokens_per_expert.float()
    return bias + rate * torch.sign(load.mean() - load)
