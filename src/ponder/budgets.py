"""Default completion budgets (``max_tokens``) per model and prompt style.

A budget that is too small cuts answers off mid-reasoning (those samples abstain); one
that is too large only costs the tokens a runaway sample spends. The defaults were
chosen from truncation rates measured on the ``word`` suite (``benchmarks/budget.py``,
greedy and sampled runs at ``max_tokens=768``, 8-16 items per model): the budget that
cuts none of the complete answers seen. qwen2.5-coder-0.5b's complete greedy answers
ran up to 677 tokens (384 cut 40% of its greedy outputs, 768 only the two that loop);
SmolLM2-135M's samples that finished all did so within 384 tokens, and its outputs cut
at 384 were still cut at 768. An explicit ``max_tokens`` (strategy option, request
field) always wins.

    model                 step by step (cot)   plain prompt
    smollm2-135m          384                  256
    qwen2.5-coder-0.5b    768                  256
    anything else         256                  256
"""

from __future__ import annotations

DEFAULT = 256
STEP_BY_STEP = {"smollm2-135m": 384, "qwen2.5-coder-0.5b": 768, "qwen2.5-coder-1.5b": 768}
CEILING = max(DEFAULT, *STEP_BY_STEP.values())
"""The largest default: the bound a strategy states before it knows its model."""
TRUNCATION_WARN = 0.1
"""A run or strategy whose samples stop at max_tokens more often than this is warned."""


def max_tokens_for(model: str, asked: int | None = None, step_by_step: bool = True) -> int:
    """``asked`` when given, else the default for ``model`` (a name, path or spec)."""
    if asked is not None:
        return asked
    if step_by_step:
        name = model.rsplit("/", 1)[-1].lower()
        for key, budget in STEP_BY_STEP.items():
            if key in name:
                return budget
    return DEFAULT
