"""KV-cache bytes per token: vLLM's formula for MHA, GQA, MQA and MLA; the lecture's 320 GB."""

from __future__ import annotations

import pytest

from ponder.deploy import (
    kv_bytes_for_context,
    kv_bytes_per_token,
    kv_bytes_per_token_per_gpu,
    load_architecture,
)
from ponder.deploy.kv import naive_kv_bytes_per_token

GIB = 1024**3


def vllm_formula(layers: int, kv_heads: int, head_dim: int, dtype_bytes: int) -> int:
    """vLLM's full-attention page size per token: K and V, each kv_heads x head_dim."""
    return 2 * layers * kv_heads * head_dim * dtype_bytes


def vllm_mla_formula(layers: int, kv_lora_rank: int, rope_dim: int, dtype_bytes: int) -> int:
    """vLLM's MLA page size per token: one latent per layer, no factor 2."""
    return layers * (kv_lora_rank + rope_dim) * dtype_bytes


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("phi-3-mini", vllm_formula(32, 32, 96, 2)),  # MHA
        ("qwen1.5-moe-a2.7b", vllm_formula(24, 16, 128, 2)),  # MHA, MoE
        ("llama-2-70b", vllm_formula(80, 8, 128, 2)),  # GQA
        ("mixtral-8x7b", vllm_formula(32, 8, 128, 2)),  # GQA, MoE
        ("qwen3-30b-a3b", vllm_formula(48, 4, 128, 2)),  # explicit head_dim (hidden/heads = 64)
        ("gemma-2-9b", vllm_formula(42, 8, 256, 2)),  # explicit head_dim (hidden/heads = 224)
        ("deepseek-v2", vllm_mla_formula(60, 512, 64, 2)),  # MLA
        ("deepseek-v3", vllm_mla_formula(61, 512, 64, 2)),  # MLA
    ],
)
def test_kv_bytes_per_token_match_vllm(name: str, expected: int) -> None:
    assert kv_bytes_per_token(load_architecture(name), "fp16") == expected


def test_llama_2_70b_is_320_kib_per_token() -> None:
    assert kv_bytes_per_token(load_architecture("llama-2-70b")) == 320 * 1024


def test_mqa_caches_one_head() -> None:
    arch = load_architecture("llama-2-70b").with_kv_heads(1)
    assert arch.attention.kind == "mqa"
    assert kv_bytes_per_token(arch) == vllm_formula(80, 1, 128, 2)


def test_lecture_320gb_claim_holds_for_full_mha_70b() -> None:
    # "128K tokens of KV cache take 320GB on a 70B model": true for multi-head attention...
    mha = load_architecture("llama-2-70b").with_kv_heads(64)
    assert mha.attention.kind == "mha"
    assert kv_bytes_for_context(mha, 128 * 1024, "fp16") == 320 * GIB


def test_lecture_320gb_claim_corrected_for_gqa() -> None:
    # ... but Llama-2-70B's 8 KV heads (grouped-query attention) cut it 8x, to 40 GiB.
    gqa = load_architecture("llama-2-70b")
    assert gqa.attention.kind == "gqa"
    assert kv_bytes_for_context(gqa, 128 * 1024, "fp16") == 40 * GIB


def test_fp8_kv_halves_the_cache() -> None:
    arch = load_architecture("llama-3.1-70b")
    assert kv_bytes_per_token(arch, "fp8") * 2 == kv_bytes_per_token(arch, "bf16")


def test_naive_calculator_overstates_gqa_and_mla() -> None:
    llama = load_architecture("llama-2-70b")
    assert naive_kv_bytes_per_token(llama) == 8 * kv_bytes_per_token(llama)
    v3 = load_architecture("deepseek-v3")
    assert naive_kv_bytes_per_token(v3) / kv_bytes_per_token(v3) == pytest.approx(2 * 7168 / 576)


def test_sliding_window_layers_keep_only_their_window() -> None:
    gemma = load_architecture("gemma-2-2b")  # every other layer slides over 4096 tokens
    per_layer = kv_bytes_per_token(gemma) // gemma.num_layers
    full = gemma.num_layers - len(gemma.sliding_layers)
    expected = per_layer * (full * 8192 + len(gemma.sliding_layers) * 4096)
    assert len(gemma.sliding_layers) == 13
    assert kv_bytes_for_context(gemma, 8192) == expected
    assert kv_bytes_for_context(gemma, 1000) == kv_bytes_per_token(gemma) * 1000


def test_tensor_parallel_splits_then_replicates_kv_heads() -> None:
    arch = load_architecture("llama-3.1-70b")  # 8 KV heads
    full = kv_bytes_per_token(arch)
    assert kv_bytes_per_token_per_gpu(arch, "auto", tp=4) == full // 4
    assert kv_bytes_per_token_per_gpu(arch, "auto", tp=8) == full // 8
    assert kv_bytes_per_token_per_gpu(arch, "auto", tp=16) == full // 8  # replicated


def test_mla_latent_is_not_split_by_tensor_parallelism() -> None:
    arch = load_architecture("deepseek-v3")
    assert kv_bytes_per_token_per_gpu(arch, "auto", tp=8) == kv_bytes_per_token(arch)
