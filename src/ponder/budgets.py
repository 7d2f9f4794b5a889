"""Default completion budgets (``max_tokens``) per model and prompt style.

A budget that is too small cuts answers off mid-reasoning (those samples abstain); one
that is too large only costs the tokens a runaway sample spends. The defaults below
were chosen from the truncation rates measured on stored samples
(``benchmarks/budget.py``): on the multi-sentence word problems at ``max_tokens=384``
no finished answer of qwen2.5-coder-0.5b was longer than 320 tokens, while 128 cut
about half of them; SmolLM2-135M's samples cut at 384 are mostly runaway repetition.
An explicit ``max_tokens`` (strategy option, request field) always wins.

    model                 step by step (cot)   plain prompt
    smollm2-135m          384                  256
    qwen2.5-coder-0.5b    384                  256
    anything else         256                  256
"""

from __future__ import annotations

DEFAULT = 256
STEP_BY_STEP = {"smollm2-135m": 384, "qwen2.5-coder-0.5b": 384}
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
