"""Default completion budgets per model and prompt style; an explicit max_tokens wins."""

import asyncio

import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.budgets import CEILING, DEFAULT, STEP_BY_STEP, max_tokens_for
from ponder.strategies import make_strategy

QWEN, SMOL = STEP_BY_STEP["qwen2.5-coder-0.5b"], STEP_BY_STEP["smollm2-135m"]


def budget_used(spec: str, model: str) -> int:
    backend = ScriptedBackend(["Answer: 4"], model=model)
    asyncio.run(make_strategy(spec).solve("What is 2 + 2?", backend))
    return backend.calls[0]["params"].max_tokens


@pytest.mark.parametrize(
    ("spec", "model", "expected"),
    [
        ("sc:n=2", "qwen2.5-coder-0.5b", QWEN),
        ("sc:n=2", "/models/qwen2.5-coder-0.5b-q4.gguf", QWEN),
        ("cot", "embedded:qwen2.5-coder-1.5b?threads=2", STEP_BY_STEP["qwen2.5-coder-1.5b"]),
        ("sc:n=2,max_tokens=100", "qwen2.5-coder-0.5b", 100),
        ("sc:n=2,cot=false", "qwen2.5-coder-0.5b", DEFAULT),
        ("sc:n=2", "some-other-model", DEFAULT),
        ("bon:n=2", "smollm2-135m", SMOL),
        ("cot", "smollm2-135m", SMOL),
        ("direct", "smollm2-135m", DEFAULT),
        ("auto:plan=cot@0", "qwen2.5-coder-0.5b", QWEN),
    ],
)
def test_each_model_gets_its_default_budget(spec, model, expected):
    assert min(QWEN, SMOL) > DEFAULT  # step-by-step answers of both need more than 256
    assert budget_used(spec, model) == expected


def test_the_stated_bound_covers_every_default():
    assert make_strategy("sc:n=8").work().tokens == 8 * CEILING
    assert make_strategy("sc:n=8,max_tokens=64").work().tokens == 8 * 64
    assert make_strategy("direct").work().tokens == CEILING
    assert all(max_tokens_for(m) <= CEILING for m in ("smollm2-135m", "x", ""))
