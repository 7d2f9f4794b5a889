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

The table is a starting point, not the only source: a model it does not name (a Llama
behind ``openai:``, any ``.gguf`` file) is asked for ``DEFAULT`` tokens first, and a
sample cut there before it states an answer is resumed from its text, the same request
going on, up to ``CEILING`` (``ponder.strategies.resume``; a backend that cannot resume
is asked for ``CEILING`` at once). A well-behaved model stops on its own, so this costs
what the model writes; a cut sample that has already stated its answer keeps it and is
not resumed. ``CEILING`` stays the bound a strategy states before its first call
(``work()``). A named model keeps its measured budget as its ceiling.

    model                 step by step (cot)   plain prompt   resumed up to
    smollm2-135m          384                  256            (its budget)
    qwen2.5-coder-0.5b    768                  256            (its budget)
    anything else         256                  256            768
"""

from __future__ import annotations

DEFAULT = 256
STEP_BY_STEP = {"smollm2-135m": 384, "qwen2.5-coder-0.5b": 768, "qwen2.5-coder-1.5b": 768}
CEILING = max(DEFAULT, *STEP_BY_STEP.values())
"""The largest default: the bound a strategy states before it knows its model."""
TRUNCATION_WARN = 0.1
"""A run or strategy whose samples stop at max_tokens more often than this is warned."""


def _named(model: str) -> str | None:
    """The table's key for ``model`` (a name, path or spec), if it names the model."""
    name = model.rsplit("/", 1)[-1].lower()
    return next((key for key in STEP_BY_STEP if key in name), None)


def max_tokens_for(model: str, asked: int | None = None, step_by_step: bool = True) -> int:
    """``asked`` when given, else the default for ``model`` (a name, path or spec)."""
    if asked is not None:
        return asked
    key = _named(model)
    return STEP_BY_STEP[key] if step_by_step and key else DEFAULT


def ceiling_for(model: str, asked: int | None = None) -> int | None:
    """How far a sample cut at ``max_tokens_for`` may be resumed: ``CEILING`` for a model
    the table does not name; None (no resuming) for a named one or an ``asked`` budget."""
    if asked is not None or _named(model):
        return None
    return CEILING
