"""Weights per dtype, layouts and per-GPU memory."""

from __future__ import annotations

import pytest

from ponder.deploy import (
    Layout,
    LayoutError,
    MemoryAssumptions,
    UnknownDtypeError,
    find_gpu,
    load_architecture,
    plan_memory,
    validate_layout,
    weight_bytes,
)
from ponder.deploy.parallel import params_per_gpu, stage_layers
from ponder.deploy.units import parse_tokens

GIB = 1024**3


def test_weight_bytes_per_dtype() -> None:
    arch = load_architecture("llama-2-70b")
    n = arch.total_params
    assert weight_bytes(arch, "fp32") == 4 * n
    assert weight_bytes(arch, "bf16") == weight_bytes(arch, "float16") == 2 * n
    assert weight_bytes(arch, "Q8_0") == int(n * 8.5 / 8)
    # fp8 and int4 keep embedding and head in 16 bit, as vLLM does
    emb = arch.params.embedding + arch.params.lm_head
    assert weight_bytes(arch, "fp8") == int((n - emb) + 2 * emb)
    assert weight_bytes(arch, "int4") == int((n - emb) * 0.5 + 2 * emb)
    assert weight_bytes(arch, "q4_k_m") < weight_bytes(arch, "q8_0")


def test_unknown_dtype_lists_choices() -> None:
    with pytest.raises(UnknownDtypeError, match="use one of: fp32, bf16"):
        weight_bytes(load_architecture("llama-2-70b"), "fp5")


def test_parse_tokens_follows_vllm() -> None:
    assert parse_tokens("32k") == 32_000
    assert parse_tokens("128K") == 131_072
    assert parse_tokens("4096") == 4096
    with pytest.raises(ValueError, match="32k"):
        parse_tokens("lots")


@pytest.mark.parametrize(
    ("name", "layout", "message"),
    [
        ("llama-2-70b", Layout(tp=3), r"does not divide the 64 attention heads.*\[1, 2, 4"),
        ("llama-3.2-3b", Layout(tp=3), "3 and the 8 KV heads"),
        ("smollm2-135m", Layout(pp=31), "exceeds the 30 layers"),
        ("llama-2-70b", Layout(tp=2, ep=True), "dense: expert parallelism"),
        ("mixtral-8x7b", Layout(tp=4, dp=4, ep=True), "exceeds the 8 experts"),
        ("llama-2-70b", Layout(tp=0), "at least 1"),
    ],
)
def test_impossible_layouts(name: str, layout: Layout, message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        validate_layout(load_architecture(name), layout)


def test_stage_layers_spare_the_last_stage() -> None:
    assert stage_layers(80, 4) == [20, 20, 20, 20]
    assert stage_layers(61, 4) == [15, 15, 16, 15]
    assert sum(stage_layers(61, 8)) == 61


def test_tensor_parallel_shards_add_up() -> None:
    arch = load_architecture("mixtral-8x7b")
    one = params_per_gpu(arch, Layout(tp=8))[0]
    held = 8 * (one.layer_params + one.embedding_params)
    replicated = 7 * sum(x.norms + x.router for x in arch.params.layers)
    assert held == pytest.approx(arch.total_params + replicated + 7 * arch.hidden_size)


def test_expert_parallel_with_dp_splits_experts_not_attention() -> None:
    arch = load_architecture("mixtral-8x22b")
    dp_only = params_per_gpu(arch, Layout(dp=8))[0].layer_params
    dp_ep = params_per_gpu(arch, Layout(dp=8, ep=True))[0].layer_params
    experts = sum(x.routed_experts for x in arch.params.layers)
    assert dp_only - dp_ep == pytest.approx(experts * 7 / 8)


def test_memory_plan_budget_and_concurrency() -> None:
    arch = load_architecture("llama-3.1-70b")
    plan = plan_memory(arch, find_gpu("H100-80GB"), Layout(tp=8), context=32_768)
    stage = plan.stages[0]
    assert stage.budget == int(81559 * 1024**2 * 0.9)
    assert stage.weights == pytest.approx(arch.total_params * 2 / 8, rel=0.01)
    assert stage.kv_bytes_per_token == 80 * 2 * 1 * 128 * 2  # one KV head per GPU
    assert plan.kv_tokens % 16 == 0
    assert plan.concurrency == pytest.approx(plan.kv_tokens / 32_768)
    assert plan.fits and plan.to_dict()["fits"]


def test_utilization_changes_the_kv_pool() -> None:
    arch, gpu = load_architecture("llama-3.2-1b"), find_gpu("L4")
    half = MemoryAssumptions(gpu_memory_utilization=0.5)
    low = plan_memory(arch, gpu, Layout(), 8192, assumptions=half)
    high = plan_memory(arch, gpu, Layout(), 8192)
    assert high.kv_tokens > low.kv_tokens


def test_model_that_cannot_fit_reports_what_to_change() -> None:
    plan = plan_memory(load_architecture("llama-2-70b"), find_gpu("L4"), Layout(), 4096)
    assert not plan.fits
    assert "use more GPUs, a larger GPU or a smaller --dtype" in plan.problems()[0]


def test_context_that_cannot_fit_reports_what_to_change() -> None:
    plan = plan_memory(load_architecture("gemma-2-9b"), find_gpu("L4"), Layout(), 8192)
    assert not plan.fits
    assert "lower --context, use --kv-dtype fp8" in plan.problems()[0]


def test_context_beyond_the_model_is_refused() -> None:
    with pytest.raises(ValueError, match="lower --context to at most 4,096"):
        plan_memory(load_architecture("llama-2-70b"), find_gpu("H100"), Layout(tp=8), 8192)
