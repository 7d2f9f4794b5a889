"""The layer: training signals against hand computation, gradients, capacity, dispatch."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch", reason="needs the moe extra: pip install 'ponder[moe]'")

from ponder.moe import (  # noqa: E402
    LoadStats,
    MoEConfig,
    MoEConfigError,
    MoELayer,
    load_balancing_loss,
    router_z_loss,
)
from ponder.moe.experts import ExpertBank  # noqa: E402


def small(**kw: object) -> MoEConfig:
    fields: dict[str, object] = {
        "hidden_size": 8,
        "expert_intermediate": 16,
        "num_experts": 4,
        "top_k": 2,
        **kw,
    }
    return MoEConfig(**fields)  # type: ignore[arg-type]


def test_aux_loss_matches_hand_computation() -> None:
    probs = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.4, 0.4, 0.1, 0.1]])
    experts = torch.tensor([[0, 1], [0, 1]])
    # f = (2/2, 2/2, 0, 0); P = (0.55, 0.25, 0.1, 0.1); E * sum f P = 4 * 0.8
    assert float(load_balancing_loss(probs, experts)) == pytest.approx(3.2)


def test_aux_loss_is_top_k_when_routing_is_uniform() -> None:
    probs = torch.full((4, 4), 0.25)
    experts = torch.tensor([[0, 1], [2, 3], [0, 2], [1, 3]])
    assert float(load_balancing_loss(probs, experts)) == pytest.approx(2.0)


def test_z_loss_matches_hand_computation() -> None:
    logits = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    want = (math.log(2) ** 2 + math.log(math.e + math.e**2) ** 2) / 2
    assert float(router_z_loss(logits)) == pytest.approx(want, rel=1e-6)


def test_layer_reports_the_losses_of_its_routing() -> None:
    torch.manual_seed(0)
    layer = MoELayer(small())
    with torch.no_grad():
        out = layer.run(torch.randn(3, 5, 8))
    assert out.hidden.shape == (3, 5, 8)
    r = out.routing
    assert float(out.aux_loss) == pytest.approx(float(load_balancing_loss(r.probs, r.experts)))
    assert float(out.z_loss) == pytest.approx(float(router_z_loss(r.logits)))
    assert sum(out.stats.tokens_per_expert) == 15 * 2


def test_gradients_reach_router_experts_and_shared_expert() -> None:
    torch.manual_seed(0)
    layer = MoELayer(small(router="qwen", shared_intermediate=8, shared_expert_gate=True))
    out = layer.run(torch.randn(32, 8))
    (out.hidden.square().mean() + 0.01 * out.aux_loss + 0.001 * out.z_loss).backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_output_is_the_weighted_sum_of_the_chosen_experts() -> None:
    torch.manual_seed(1)
    layer = MoELayer(small())
    x = torch.randn(6, 8)
    with torch.no_grad():
        out = layer.run(x)
        r = out.routing
        want = torch.stack(
            [
                sum(
                    r.weights[t, j] * layer.experts.apply_one(int(r.experts[t, j]), x[t : t + 1])[0]
                    for j in range(2)
                )
                for t in range(6)
            ]
        )
    assert torch.allclose(out.hidden, want, atol=1e-6)


def test_capacity_drops_overflow_and_counts_it() -> None:
    layer = MoELayer(small(num_experts=4, top_k=1, capacity_factor=1.0))
    with torch.no_grad():
        layer.gate.weight.zero_()
        layer.gate.weight[0, 0] = 10.0  # every token with x[0] > 0 picks expert 0
    x = torch.zeros(8, 8)
    x[:, 0] = 1.0
    x[6:, 0] = -1.0  # tokens 6 and 7 avoid expert 0 (their logits tie at 0 elsewhere)
    out = layer.run(x)
    # capacity = ceil(1.0 * 8 * 1 / 4) = 2 slots; expert 0 gets 6 tokens, keeps the first 2
    assert out.stats.tokens_per_expert[0] == 6
    assert out.stats.dropped == 4
    assert torch.all(out.hidden[2:6] == 0)  # dropped tokens get nothing from the experts
    assert torch.any(out.hidden[:2] != 0)


def test_dispatch_gives_each_expert_only_its_tokens() -> None:
    torch.manual_seed(0)
    layer = MoELayer(small(num_experts=8, top_k=2))
    seen: list[int] = []
    original = ExpertBank.apply_one

    def counting(self: ExpertBank, expert: int, x: torch.Tensor) -> torch.Tensor:
        seen.append(x.shape[0])
        return original(self, expert, x)

    ExpertBank.apply_one = counting  # type: ignore[method-assign]
    try:
        out = layer.run(torch.randn(64, 8))
    finally:
        ExpertBank.apply_one = original  # type: ignore[method-assign]
    assert sum(seen) == 64 * 2  # T * K rows in all: never T * E
    assert len(seen) == sum(1 for n in out.stats.tokens_per_expert if n) <= 8


def test_load_stats_entropy_and_balance() -> None:
    even = LoadStats((5, 5, 5, 5), dropped=0)
    assert even.entropy == pytest.approx(math.log(4)) and even.balance == pytest.approx(1.0)
    skewed = LoadStats((10, 0, 0, 0), dropped=3)
    assert skewed.entropy == 0.0 and skewed.to_dict()["dropped"] == 3


def test_v3_bias_update_balances_the_next_batch() -> None:
    torch.manual_seed(0)
    layer = MoELayer(small(router="deepseek_v3", num_experts=8, top_k=2))
    with torch.no_grad():
        layer.gate.weight[0, 0] += 2.0  # expert 0 is favoured by every token
        x = torch.randn(256, 8)
        x[:, 0] = 1.0
        before = layer.run(x).stats
        for _ in range(100):
            layer.update_bias(layer.run(x).stats, rate=0.01)
        after = layer.run(x).stats
    assert before.tokens_per_expert[0] == 256  # every token picked expert 0
    assert after.tokens_per_expert[0] < 64
    assert after.balance > before.balance + 0.1


def test_update_bias_needs_the_v3_router() -> None:
    with pytest.raises(MoEConfigError, match="deepseek_v3"):
        MoELayer(small()).update_bias(LoadStats((1, 1, 1, 1), 0))


def test_weight_counts_match_the_config() -> None:
    for c in (
        small(),
        small(router="qwen", shared_intermediate=24, shared_expert_gate=True),
        small(router="deepseek_v3", shared_intermediate=32),
    ):
        assert MoELayer(c).num_weights() == c.total_params
