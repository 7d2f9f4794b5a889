"""The planner's expert-parallel all-to-all estimate (no torch needed)."""

from __future__ import annotations

import pytest

from ponder.deploy import PlanError, load_architecture
from ponder.deploy.comm import AllToAll, ep_all_to_all
from ponder.deploy.config_moe import parse_moe


def test_all_to_all_counts_the_remote_share_both_ways() -> None:
    a = AllToAll(tokens=64, hidden_size=32, top_k=2, ep_size=4, bytes_per_value=4)
    assert a.remote_copies == 64 * 2 * 3 / 4
    assert a.dispatch_bytes == a.combine_bytes == 96 * 32 * 4
    assert AllToAll(64, 32, 2, 1, 4).total_bytes == 0  # one rank sends nothing


def test_deepseek_v3_per_token_figure() -> None:
    arch = load_architecture("deepseek-v3")
    one = ep_all_to_all(arch, ep_size=8)
    assert one.total_bytes == 2 * 8 * 7168 * 2 * 7 / 8


def test_dense_models_and_bad_sizes_are_refused() -> None:
    with pytest.raises(PlanError, match="dense"):
        ep_all_to_all(load_architecture("llama-3.1-70b"), ep_size=2)
    with pytest.raises(PlanError, match="ep_size must be at least 1"):
        AllToAll(1, 8, 1, 0, 2)


def test_v3_router_bias_is_counted_without_topk_method() -> None:
    cfg = {
        "model_type": "deepseek_v3",
        "n_routed_experts": 16,
        "num_experts_per_tok": 4,
        "moe_intermediate_size": 8,
    }
    moe = parse_moe(cfg, layers=1)
    assert moe is not None and moe.router_bias
    v2 = parse_moe({**cfg, "model_type": "deepseek_v2"}, layers=1)
    assert v2 is not None and not v2.router_bias
