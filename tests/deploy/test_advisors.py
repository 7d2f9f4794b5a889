"""The long-context-vs-RAG and model-size advisors."""

from __future__ import annotations

import pytest

from ponder.deploy import PlanError, advise_rag, advise_size, load_architecture
from ponder.deploy.kv import kv_bytes_for_context
from ponder.deploy.rag import LONG_CONTEXT, RAG_CHUNKS, SUMMARIES

GIB = 1024**3
LLAMA = load_architecture("llama-3.1-70b")


def test_small_document_goes_into_long_context() -> None:
    advice = advise_rag(LLAMA, 60_000, precise=True)
    assert advice.decision == LONG_CONTEXT
    assert "under the 100,000-token threshold" in advice.reasoning[0]


def test_large_document_with_precise_retrieval_needs_rag_chunks() -> None:
    advice = advise_rag(LLAMA, 500_000, precise=True)
    assert advice.decision == RAG_CHUNKS


def test_large_document_without_precision_uses_summaries() -> None:
    advice = advise_rag(LLAMA, 500_000, precise=False)
    assert advice.decision == SUMMARIES


def test_options_carry_kv_memory_and_cost() -> None:
    advice = advise_rag(LLAMA, 60_000, precise=False, price_per_mtok=2.0)
    long = next(o for o in advice.options if o.name == LONG_CONTEXT)
    assert long.prompt_tokens == 60_200
    assert long.kv_bytes == kv_bytes_for_context(LLAMA, 60_200)
    assert long.cost_usd == pytest.approx(60_200 * 2.0 / 1e6)
    rag = next(o for o in advice.options if o.name == RAG_CHUNKS)
    assert rag.prompt_tokens == 8 * 512 + 200 and rag.kv_bytes < long.kv_bytes


def test_lost_in_the_middle_advice_is_given() -> None:
    advice = advise_rag(LLAMA, 10_000, precise=False)
    assert "start" in advice.placement_advice and "end" in advice.placement_advice


def test_window_of_the_model_overrides_the_tree() -> None:
    advice = advise_rag(load_architecture("llama-2-70b"), 50_000, precise=False)
    assert advice.decision == RAG_CHUNKS
    assert any("at most 4,096 tokens" in r for r in advice.reasoning)


def test_bad_rag_input() -> None:
    with pytest.raises(PlanError, match="--chunk-tokens"):
        advise_rag(LLAMA, 1000, precise=False, chunk_tokens=0)


def test_edge_gets_a_1_to_3b_slm() -> None:
    advice = advise_size("mobile", complex_tasks=True, usable_bytes=6 * GIB)
    assert advice.branch == "edge" and advice.weight_dtype == "q4_k_m"
    assert all(0.9e9 <= c.total_params <= 3.5e9 for c in advice.candidates)
    assert advice.recommended == advice.candidates[-1].name  # the largest that fits


def test_server_complex_tasks_get_large_models_checked_against_memory() -> None:
    advice = advise_size("server", complex_tasks=True, usable_bytes=int(8 * 80 * 0.9 * GIB))
    names = {c.name for c in advice.candidates}
    assert {"llama-3.1-70b", "deepseek-v3", "gemma-2-9b"} <= names
    fits = {c.name: c.fits for c in advice.candidates}
    assert fits["llama-3.1-70b"] and not fits["deepseek-v3"]
    assert advice.recommended is not None


def test_server_simple_tasks_get_the_smallest_fitting_3_to_8b() -> None:
    advice = advise_size("server", complex_tasks=False, usable_bytes=20 * GIB)
    assert all(2.9e9 <= c.total_params <= 8.5e9 for c in advice.candidates)
    assert advice.recommended == next(c.name for c in advice.candidates if c.fits)
    assert "fine-tuned" in advice.reasoning[0]


def test_nothing_fits_says_what_to_change() -> None:
    advice = advise_size("server", complex_tasks=True, usable_bytes=4 * GIB)
    assert advice.recommended is None
    assert "quantise further" in advice.reasoning[-1]


def test_bad_size_input() -> None:
    with pytest.raises(PlanError, match="edge, mobile or server"):
        advise_size("cloud", complex_tasks=True, usable_bytes=GIB)
    with pytest.raises(PlanError, match="--memory-gib"):
        advise_size("edge", complex_tasks=True, usable_bytes=0)
