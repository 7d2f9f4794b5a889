import pytest

from ponder.errors import ConfigError
from ponder.strategies.stopping import (
    BetaRule,
    FixedBudget,
    MarginRule,
    WindowRule,
    beta_prob_greater_half,
    make_rule,
)


def test_beta_probability_matches_closed_forms() -> None:
    # Beta(6, 1): P(p > 1/2) = 1 - (1/2)^6
    assert beta_prob_greater_half(5, 0) == pytest.approx(1 - 0.5**6)
    # symmetric counts: exactly one half
    assert beta_prob_greater_half(3, 3) == pytest.approx(0.5)
    # Beta(2, 2): P(p > 1/2) = 1/2 ; Beta(3, 1): 1 - (1/2)^3
    assert beta_prob_greater_half(2, 0) == pytest.approx(1 - 0.5**3)


def test_beta_rule_stops_on_clear_majority_only() -> None:
    rule = BetaRule(threshold=0.95)
    assert not rule.should_stop(["4", "4"])
    assert not rule.should_stop(["4", "5", "4", "5", "4"])
    assert rule.should_stop(["4"] * 5)  # 1 - 1/64 > 0.95
    assert not rule.should_stop(["4"] * 3)  # 1 - 1/16 = 0.9375


def test_window_rule_needs_a_full_agreeing_window() -> None:
    rule = WindowRule(wave=3)
    assert not rule.should_stop(["1", "1"])
    assert rule.should_stop(["2", "1", "1", "1"])
    assert not rule.should_stop(["1", "1", "2"])
    assert not rule.should_stop([None, None, None])


def test_margin_and_fixed() -> None:
    assert MarginRule(margin=2).should_stop(["a", "a", "b", "a"])
    assert not MarginRule(margin=3).should_stop(["a", "a", "b", "a"])
    assert not FixedBudget().should_stop(["a"] * 100)


def test_make_rule_names() -> None:
    assert make_rule("esc").name == "esc"
    assert make_rule("beta", threshold=0.99).threshold == 0.99  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="unknown stopping rule"):
        make_rule("soon")
