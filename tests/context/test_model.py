"""The real embedded model: its own tokenizer, token-exact depths, a 2x2 sweep."""

from __future__ import annotations

import asyncio

import pytest

from ponder.context.tokens import count, tokenizer_for
from ponder.eval.context_sweeps import (
    NiahSpec,
    build_haystack,
    insert_needles,
    niah_cases,
    run_cases,
)
from ponder.eval.context_sweeps.results import grid
from ponder.eval.store import SampleStore

pytestmark = pytest.mark.model


def test_the_embedded_tokenizer_places_needles_token_exactly(embedded) -> None:
    tokenizer = tokenizer_for(embedded)
    assert tokenizer.exact and "llama.cpp" in tokenizer.source
    haystack = build_haystack(tokenizer, 300, seed=2)
    assert count(tokenizer, haystack.text) == haystack.tokens <= 300
    for depth in (0.0, 0.33, 0.5, 1.0):
        placed = insert_needles(haystack, [("The special magic number is: 77.", depth)], tokenizer)
        at = placed.needle_chars[0]
        # the tokens before the needle, counted on the prefix alone, match exactly
        assert count(tokenizer, placed.text[:at]) == placed.needle_tokens[0]
        # and it is the boundary nearest the requested depth, each counted on its own
        target = depth * haystack.tokens
        options = [count(tokenizer, haystack.text[:cut]) for cut in haystack.cuts]
        assert abs(placed.needle_tokens[0] - target) == min(abs(t - target) for t in options)


def test_a_2x2_sweep_on_the_embedded_model(embedded, tmp_path) -> None:
    tokenizer = tokenizer_for(embedded)
    cases = niah_cases(NiahSpec(lengths=(200, 400), depths=(0.0, 1.0)), tokenizer)
    store = SampleStore(tmp_path)
    summary = asyncio.run(run_cases(cases, embedded, store, model="smollm2"))
    assert summary.finished == 4 and summary.failed == 0
    records = store.records()
    for record, case in zip(records, cases, strict=True):
        assert abs(record["prompt_tokens"] - case.context_tokens) <= 16  # the chat template
        assert record["output"]
    assert len(grid(records)) == 4
    # SmolLM2-135M finds a needle in 200-400 tokens of prose most of the time
    assert sum(r["score"] for r in records) >= 2
