"""Routing math against small cases computed by hand."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="needs the moe extra: pip install 'ponder[moe]'")

from ponder.moe import MoEConfig, MoEConfigError, balance_bias, route  # noqa: E402


def cfg(**kw: object) -> MoEConfig:
    base: dict[str, object] = {"hidden_size": 4, "expert_intermediate": 4, "num_experts": 4}
    return MoEConfig(**{**base, "top_k": 2, **kw})  # type: ignore[arg-type]


LOGITS = torch.tensor([[1.0, 2.0, 0.0, 3.0]])


def softmax_row() -> list[float]:
    exps = [math.exp(v) for v in (1.0, 2.0, 0.0, 3.0)]
    return [e / sum(exps) for e in exps]


def test_mixtral_renormalises_over_the_top_k() -> None:
    r = route(LOGITS, cfg(router="mixtral"))
    p = softmax_row()
    assert r.experts.tolist() == [[3, 1]]
    want = [p[3] / (p[3] + p[1]), p[1] / (p[3] + p[1])]
    assert r.weights[0].tolist() == pytest.approx(want, abs=1e-7)
    assert r.probs[0].tolist() == pytest.approx(p, abs=1e-7)


def test_qwen_keeps_raw_probabilities_unless_norm_topk_prob() -> None:
    p = softmax_row()
    raw = route(LOGITS, cfg(router="qwen", norm_topk_prob=False))
    assert raw.weights[0].tolist() == pytest.approx([p[3], p[1]], abs=1e-7)
    normed = route(LOGITS, cfg(router="qwen", norm_topk_prob=True))
    assert float(normed.weights.sum()) == pytest.approx(1.0)


def test_router_scores_in_fp32_from_half_logits() -> None:
    r = route(LOGITS.to(torch.bfloat16), cfg(router="mixtral"))
    assert r.weights.dtype == torch.float32 and r.probs.dtype == torch.float32


def test_deepseek_v2_scales_and_limits_groups() -> None:
    # 4 experts in 2 groups {0,1} {2,3}; group maxima 2.0 and 3.0 -> keep group {2,3} only
    c = cfg(router="deepseek_v2", n_group=2, topk_group=1, routed_scaling_factor=16.0)
    c = MoEConfig(**{**c.__dict__, "norm_topk_prob": False})
    r = route(LOGITS, c)
    p = softmax_row()
    assert r.experts.tolist() == [[3, 2]]  # expert 1 (p=0.24) is outside the kept group
    assert r.weights[0].tolist() == pytest.approx([16 * p[3], 16 * p[2]], rel=1e-6)


def test_deepseek_v3_bias_chooses_but_does_not_weigh() -> None:
    c = cfg(router="deepseek_v3", norm_topk_prob=True, routed_scaling_factor=2.5)
    bias = torch.tensor([0.0, 0.0, 5.0, 0.0])  # pushes expert 2 (lowest logit) into the top-2
    r = route(LOGITS, c, bias)
    s = [1 / (1 + math.exp(-v)) for v in (1.0, 2.0, 0.0, 3.0)]
    assert r.experts.tolist() == [[2, 3]]
    want = [2.5 * s[2] / (s[2] + s[3]), 2.5 * s[3] / (s[2] + s[3])]
    assert r.weights[0].tolist() == pytest.approx(want, rel=1e-6)


def test_deepseek_v3_ranks_groups_by_their_two_best_scores() -> None:
    # groups {0,1,2,3} and {4,5,6,7}: group A has the single best expert, group B the best pair
    logits = torch.tensor([[4.0, -4.0, -4.0, -4.0, 2.0, 2.0, -4.0, -4.0]])
    c = MoEConfig(
        hidden_size=4,
        expert_intermediate=4,
        num_experts=8,
        top_k=2,
        router="deepseek_v3",
        n_group=2,
        topk_group=1,
    )
    assert sorted(route(logits, c).experts[0].tolist()) == [4, 5]


def test_balance_bias_moves_towards_even_load() -> None:
    bias = balance_bias(torch.zeros(4), torch.tensor([10, 0, 5, 5]), rate=0.1)
    assert bias.tolist() == pytest.approx([-0.1, 0.1, 0.0, 0.0])


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"top_k": 5}, "top_k=5 exceeds num_experts=4"),
        ({"router": "switch"}, "unknown router"),
        ({"n_group": 3}, "n_group=3 must divide"),
        ({"capacity_factor": 0.0}, "capacity_factor"),
        ({"shared_expert_gate": True}, "needs a shared expert"),
        ({"hidden_size": 0}, "hidden_size must be a positive integer"),
    ],
)
def test_bad_configs_say_what_to_change(fields: dict[str, object], needle: str) -> None:
    with pytest.raises(MoEConfigError, match=needle):
        cfg(**fields)
