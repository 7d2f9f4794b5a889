"""Small language models from the lecture's SLM table, plus SmolLM2-135M (ponder's default)."""

from __future__ import annotations

from typing import Any

from ponder.deploy.catalog.entry import CatalogEntry, Published

_HF = "https://huggingface.co/{}/blob/main/config.json"


def _llama32(hidden: int, heads: int, layers: int, head_dim: int) -> dict[str, Any]:
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 128000,
        "eos_token_id": 128001,
        "head_dim": head_dim,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": 8192,
        "max_position_embeddings": 131072,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": 8,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": {
            "factor": 32.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3",
        },
        "rope_theta": 500000.0,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.45.0.dev0",
        "use_cache": True,
        "vocab_size": 128256,
    }


def _qwen25(hidden: int, inter: int, heads: int, layers: int, ctx: int) -> dict[str, Any]:
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 151643,
        "eos_token_id": 151643,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": ctx,
        "max_window_layers": layers,
        "model_type": "qwen2",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-06,
        "rope_theta": 1000000.0,
        "sliding_window": ctx,
        "tie_word_embeddings": True,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.40.1",
        "use_cache": True,
        "use_mrope": False,
        "use_sliding_window": False,
        "vocab_size": 151936,
    }


def _gemma2(hidden: int, inter: int, heads: int, kv: int, layers: int) -> dict[str, Any]:
    return {
        "architectures": ["Gemma2ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "attn_logit_softcapping": 50.0,
        "bos_token_id": 2,
        "cache_implementation": "hybrid",
        "eos_token_id": 1,
        "final_logit_softcapping": 30.0,
        "head_dim": 256,
        "hidden_act": "gelu_pytorch_tanh",
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": 8192,
        "model_type": "gemma2",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv,
        "pad_token_id": 0,
        "query_pre_attn_scalar": 256,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "sliding_window": 4096,
        "torch_dtype": "float32",
        "transformers_version": "4.42.4",
        "use_cache": True,
        "vocab_size": 256000,
    }


_GEMMA2_SRC = (
    "Gemma 2 report (arXiv:2408.00118), Table 2: {} embedding + {} non-embedding parameters "
    "(its embedding counts 256,128 rows; the released config has 256,000)"
)
_QWEN_SRC = "model card of {}: 'Number of Parameters: {}'"
_LLAMA32_SRC = "Llama 3.2 model card (meta-llama/Llama-3.2-1B), Model Information table: '{}'"


def _entry(
    name: str, hf_id: str, config: dict[str, Any], total: Published, **kw: Any
) -> CatalogEntry:
    return CatalogEntry(name, hf_id, config, _HF.format(hf_id), total, **kw)


SLM: tuple[CatalogEntry, ...] = (
    _entry(
        "phi-3-mini",
        "microsoft/Phi-3-mini-4k-instruct",
        {
            "architectures": ["Phi3ForCausalLM"],
            "attention_bias": False,
            "attention_dropout": 0.0,
            "bos_token_id": 1,
            "embd_pdrop": 0.0,
            "eos_token_id": 32000,
            "hidden_act": "silu",
            "hidden_size": 3072,
            "initializer_range": 0.02,
            "intermediate_size": 8192,
            "max_position_embeddings": 4096,
            "model_type": "phi3",
            "num_attention_heads": 32,
            "num_hidden_layers": 32,
            "num_key_value_heads": 32,
            "original_max_position_embeddings": 4096,
            "pad_token_id": 32000,
            "resid_pdrop": 0.0,
            "rms_norm_eps": 1e-05,
            "rope_scaling": None,
            "rope_theta": 10000.0,
            "sliding_window": 2047,
            "tie_word_embeddings": False,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.40.2",
            "use_cache": True,
            "vocab_size": 32064,
        },
        Published(3.8e9, 0.1e9, "Phi-3 technical report (arXiv:2404.14219): phi-3-mini, 3.8B"),
        aliases=("phi-3-mini-4k", "phi3-mini"),
    ),
    _entry(
        "gemma-2-2b",
        "google/gemma-2-2b",
        _gemma2(2304, 9216, 8, 4, 26),
        Published(2_614_636_800, 1, _GEMMA2_SRC.format("590,118,912", "2,024,517,888")),
    ),
    _entry(
        "gemma-2-9b",
        "google/gemma-2-9b",
        _gemma2(3584, 14336, 16, 8, 42),
        Published(9_242_164_736, 1, _GEMMA2_SRC.format("917,962,752", "8,324,201,984")),
    ),
    _entry(
        "llama-3.2-1b",
        "meta-llama/Llama-3.2-1B",
        _llama32(2048, 32, 16, 64),
        Published(1.23e9, 0.01e9, _LLAMA32_SRC.format("1B (1.23B)")),
    ),
    _entry(
        "llama-3.2-3b",
        "meta-llama/Llama-3.2-3B",
        _llama32(3072, 24, 28, 128),
        Published(3.21e9, 0.01e9, _LLAMA32_SRC.format("3B (3.21B)")),
    ),
    _entry(
        "qwen2.5-0.5b",
        "Qwen/Qwen2.5-0.5B",
        _qwen25(896, 4864, 14, 24, 32768),
        Published(0.49e9, 0.01e9, _QWEN_SRC.format("Qwen/Qwen2.5-0.5B", "0.49B")),
    ),
    _entry(
        "qwen2.5-1.5b",
        "Qwen/Qwen2.5-1.5B",
        _qwen25(1536, 8960, 12, 28, 131072),
        Published(1.54e9, 0.01e9, _QWEN_SRC.format("Qwen/Qwen2.5-1.5B", "1.54B")),
    ),
    _entry(
        "qwen2.5-3b",
        "Qwen/Qwen2.5-3B",
        _qwen25(2048, 11008, 16, 36, 32768),
        Published(3.09e9, 0.01e9, _QWEN_SRC.format("Qwen/Qwen2.5-3B", "3.09B")),
    ),
    _entry(
        "smollm2-135m",
        "HuggingFaceTB/SmolLM2-135M",
        {
            "architectures": ["LlamaForCausalLM"],
            "attention_bias": False,
            "attention_dropout": 0.0,
            "bos_token_id": 0,
            "eos_token_id": 0,
            "hidden_act": "silu",
            "hidden_size": 576,
            "initializer_range": 0.041666666666666664,
            "intermediate_size": 1536,
            "is_llama_config": True,
            "max_position_embeddings": 8192,
            "model_type": "llama",
            "num_attention_heads": 9,
            "num_hidden_layers": 30,
            "num_key_value_heads": 3,
            "pretraining_tp": 1,
            "rms_norm_eps": 1e-05,
            "rope_interleaved": False,
            "rope_scaling": None,
            "rope_theta": 100000,
            "tie_word_embeddings": True,
            "torch_dtype": "bfloat16",
            "transformers_version": "4.40.1",
            "use_cache": True,
            "vocab_size": 49152,
        },
        Published(
            135e6,
            1e6,
            "SmolLM2 model card (HuggingFaceTB/SmolLM2-135M) and paper (arXiv:2502.02737): 135M",
        ),
        aliases=("smollm2", "smollm2-135m-instruct"),
    ),
)
