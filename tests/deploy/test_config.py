"""Reading Hugging Face config.json files into architectures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ponder.deploy import ArchitectureError, UnknownPlanModelError, find_model, load_architecture


def llama_like(**overrides: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {
        "model_type": "llama",
        "hidden_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "intermediate_size": 1024,
        "vocab_size": 1000,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
    }
    cfg.update(overrides)
    return cfg


def test_dense_params_by_hand() -> None:
    arch = load_architecture(llama_like())
    # per layer: q 512*512, k and v 512*128 each, o 512*512, MLP 3*512*1024, two norms
    layer = 512 * 512 * 2 + 512 * 128 * 2 + 3 * 512 * 1024 + 2 * 512
    assert arch.total_params == 4 * layer + 2 * 1000 * 512 + 512
    assert arch.active_params == arch.total_params
    assert arch.attention.kind == "gqa"


def test_tied_embeddings_count_once() -> None:
    untied = load_architecture(llama_like())
    tied = load_architecture(llama_like(tie_word_embeddings=True))
    assert untied.total_params - tied.total_params == 1000 * 512
    assert tied.params.active_matmul == tied.params.active  # the tied matrix is the head


def test_qwen2_has_qkv_bias_without_saying_so() -> None:
    plain = load_architecture(llama_like())
    qwen = load_architecture(llama_like(model_type="qwen2"))
    assert qwen.total_params - plain.total_params == 4 * (512 + 2 * 128)


def test_explicit_head_dim_wins_over_hidden_over_heads() -> None:
    arch = load_architecture(llama_like(head_dim=128))
    assert arch.attention.head_dim == 128
    qwen3 = load_architecture("qwen3-30b-a3b")
    assert qwen3.attention.head_dim == 128 != qwen3.hidden_size // qwen3.attention.num_heads


def test_mixtral_style_moe() -> None:
    arch = load_architecture("mixtral-8x7b")
    assert arch.moe is not None
    assert (arch.moe.num_experts, arch.moe.experts_per_token, arch.moe.style) == (8, 2, "mixtral")
    assert arch.moe.expert_intermediate == 14336


def test_qwen_moe_shared_expert_with_gate() -> None:
    arch = load_architecture("qwen1.5-moe-a2.7b")
    assert arch.moe is not None and arch.moe.shared_expert_gate
    layer = arch.params.layers[0]
    assert layer.shared_experts == 3 * 2048 * 5632 + 2048  # own width, plus the sigmoid gate
    assert layer.expert == 3 * 2048 * 1408


def test_deepseek_style_dense_first_layers_and_mla() -> None:
    arch = load_architecture("deepseek-v3")
    assert arch.moe is not None and arch.attention.kind == "mla"
    assert arch.moe.moe_layers[0] == 3 and len(arch.moe.moe_layers) == 58
    layers = arch.params.layers
    assert layers[0].dense_mlp == 3 * 7168 * 18432 and layers[0].num_experts == 0
    assert layers[3].shared_experts == 3 * 7168 * 2048
    assert arch.weight_dtype == "fp8"  # from quantization_config


def test_sliding_window_disabled_for_qwen() -> None:
    assert load_architecture("qwen2.5-3b").sliding_window is None
    assert load_architecture("gemma-2-9b").sliding_layers == tuple(range(0, 42, 2))


def test_unknown_fields_are_reported() -> None:
    smol = load_architecture("smollm2-135m")
    assert smol.unknown_fields == ("is_llama_config", "rope_interleaved")
    arch = load_architecture(llama_like(my_new_trick=3))
    assert arch.unknown_fields == ("my_new_trick",)


def test_assumptions_are_listed() -> None:
    cfg = llama_like(model_type="brand_new")
    del cfg["tie_word_embeddings"], cfg["torch_dtype"]
    notes = " ".join(load_architecture(cfg).assumptions)
    assert "brand_new" in notes and "tie_word_embeddings" in notes and "bf16" in notes


def test_file_and_directory(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(llama_like()))
    by_dir = load_architecture(tmp_path)
    by_file = load_architecture(tmp_path / "config.json")
    expected = load_architecture(llama_like()).total_params
    assert by_dir.total_params == by_file.total_params == expected


def test_multimodal_text_config() -> None:
    arch = load_architecture({"model_type": "llava", "text_config": llama_like()})
    assert arch.total_params == load_architecture(llama_like()).total_params
    assert any("vision" in note for note in arch.assumptions)


@pytest.mark.parametrize("field", ["hidden_size", "num_hidden_layers", "vocab_size"])
def test_missing_field_says_what_to_add(field: str) -> None:
    cfg = llama_like()
    del cfg[field]
    with pytest.raises(ArchitectureError, match=f"missing '{field}'.*add it"):
        load_architecture(cfg)


def test_bad_values_are_rejected() -> None:
    with pytest.raises(ArchitectureError, match="does not divide"):
        load_architecture(llama_like(num_key_value_heads=3))
    with pytest.raises(ArchitectureError, match="positive integer"):
        load_architecture(llama_like(hidden_size="big"))
    with pytest.raises(ArchitectureError, match="num_experts_per_tok"):
        load_architecture(llama_like(num_local_experts=8))
    with pytest.raises(ArchitectureError, match="head_dim"):
        load_architecture(llama_like(num_attention_heads=7, num_key_value_heads=7))


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(ArchitectureError, match=r"valid config\.json"):
        load_architecture(bad)


def test_unknown_model_lists_the_catalog() -> None:
    with pytest.raises(UnknownPlanModelError, match="mixtral-8x7b"):
        load_architecture("no-such-model")


def test_lookup_by_alias_and_hf_id() -> None:
    assert find_model("mistralai/Mixtral-8x7B-v0.1") is not None
    assert find_model("Mistral-Small-8B") is not None
