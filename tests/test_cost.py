import json
from pathlib import Path

import pytest

from ponder import cost
from ponder.errors import ConfigError
from ponder.types import Usage


def test_dollars_from_the_price_table() -> None:
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=500_000)
    assert cost.estimate(usage, "gpt-4o-mini").dollars == pytest.approx(0.15 + 0.30)
    # a local model without a list price gets the notional price replay and routing use
    active = cost.active_params_for("smollm2-135m")
    assert active is not None
    notional = cost.NOTIONAL_PER_BILLION * active / 1e9 * 1.5
    assert cost.estimate(usage, "smollm2-135m").dollars == pytest.approx(notional)
    assert cost.estimate(usage, "no-such-model").dollars == 0.0


def test_flops_are_two_times_active_params_times_tokens() -> None:
    usage = Usage(prompt_tokens=30, completion_tokens=70)
    assert cost.estimate(usage, "m", active_params=1e9).flops == pytest.approx(2e11)
    assert cost.estimate(usage, "m").flops == 0.0


def test_user_price_file_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(
        json.dumps(
            {"gpt-4o-mini": {"input": 1, "output": 2}, "my-vllm": {"input": 0.1, "output": 0.2}}
        )
    )
    monkeypatch.setenv("PONDER_PRICES", str(prices))
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert cost.estimate(usage, "gpt-4o-mini").dollars == pytest.approx(3.0)
    assert cost.estimate(usage, "my-vllm").dollars == pytest.approx(0.3)


@pytest.mark.parametrize("content", ["[1, 2]", '{"m": {"input": "x"}}', '{"m": 3}', "not json"])
def test_bad_price_files_name_the_problem(tmp_path: Path, content: str) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(content)
    with pytest.raises(ConfigError, match="price file"):
        cost.load_prices(prices)


def test_flops_default_to_the_planner_catalog() -> None:
    usage = Usage(prompt_tokens=100, completion_tokens=100)
    flops = cost.estimate(usage, "mistralai/Mixtral-8x7B-Instruct-v0.1").flops
    # Mixtral 8x7B: 12.9B active parameters per token (Mistral AI), embeddings aside
    assert 2 * 12.5e9 * 200 < flops < 2 * 12.9e9 * 200
    assert cost.estimate(usage, "some-unknown-model").flops == 0.0
