"""Mixture-of-experts catalog models: Mixtral, DeepSeek-V2/V3, Qwen1.5-MoE, Qwen3-30B-A3B."""

from __future__ import annotations

from typing import Any

from ponder.deploy.catalog.entry import CatalogEntry, Published

_HF = "https://huggingface.co/{}/blob/main/config.json"
_DEEPSEEK_ACTIVE = (
    "DeepSeek counts activated parameters without the input-embedding lookup; "
    "DeepSeek-V3's README_WEIGHTS.md: 'Activation parameters: 36.6B (including 0.9B for the "
    "output Head)'"
)


def _mixtral(hidden: int, inter: int, heads: int, layers: int, ctx: int) -> dict[str, Any]:
    return {
        "architectures": ["MixtralForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": inter,
        "max_position_embeddings": ctx,
        "model_type": "mixtral",
        "num_attention_heads": heads,
        "num_experts_per_tok": 2,
        "num_hidden_layers": layers,
        "num_key_value_heads": 8,
        "num_local_experts": 8,
        "output_router_logits": False,
        "rms_norm_eps": 1e-05,
        "rope_theta": 1000000.0,
        "router_aux_loss_coef": 0.02,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.36.0.dev0",
        "use_cache": True,
        "vocab_size": 32000,
    }


def _deepseek_common() -> dict[str, Any]:
    return {
        "attention_bias": False,
        "attention_dropout": 0.0,
        "aux_loss_alpha": 0.001,
        "ep_size": 1,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "kv_lora_rank": 512,
        "max_position_embeddings": 163840,
        "moe_layer_freq": 1,
        "n_group": 8,
        "num_attention_heads": 128,
        "num_key_value_heads": 128,
        "pretraining_tp": 1,
        "q_lora_rank": 1536,
        "qk_nope_head_dim": 128,
        "qk_rope_head_dim": 64,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000,
        "seq_aux": True,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "use_cache": True,
        "v_head_dim": 128,
    }


def _yarn(mscale: float) -> dict[str, Any]:
    return {
        "beta_fast": 32,
        "beta_slow": 1,
        "factor": 40,
        "mscale": mscale,
        "mscale_all_dim": mscale,
        "original_max_position_embeddings": 4096,
        "type": "yarn",
    }


_DEEPSEEK_V2 = {
    **_deepseek_common(),
    "architectures": ["DeepseekV2ForCausalLM"],
    "bos_token_id": 100000,
    "eos_token_id": 100001,
    "first_k_dense_replace": 1,
    "hidden_size": 5120,
    "intermediate_size": 12288,
    "model_type": "deepseek_v2",
    "moe_intermediate_size": 1536,
    "n_routed_experts": 160,
    "n_shared_experts": 2,
    "norm_topk_prob": False,
    "num_experts_per_tok": 6,
    "num_hidden_layers": 60,
    "rope_scaling": _yarn(0.707),
    "routed_scaling_factor": 16.0,
    "scoring_func": "softmax",
    "topk_group": 3,
    "topk_method": "group_limited_greedy",
    "transformers_version": "4.39.3",
    "vocab_size": 102400,
}

_DEEPSEEK_V3 = {
    **_deepseek_common(),
    "architectures": ["DeepseekV3ForCausalLM"],
    "bos_token_id": 0,
    "eos_token_id": 1,
    "first_k_dense_replace": 3,
    "hidden_size": 7168,
    "intermediate_size": 18432,
    "model_type": "deepseek_v3",
    "moe_intermediate_size": 2048,
    "n_routed_experts": 256,
    "n_shared_experts": 1,
    "norm_topk_prob": True,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 61,
    "num_nextn_predict_layers": 1,
    "quantization_config": {
        "activation_scheme": "dynamic",
        "fmt": "e4m3",
        "quant_method": "fp8",
        "weight_block_size": [128, 128],
    },
    "rope_scaling": _yarn(1.0),
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "topk_group": 4,
    "topk_method": "noaux_tc",
    "transformers_version": "4.33.1",
    "vocab_size": 129280,
}

_QWEN15_MOE = {
    "architectures": ["Qwen2MoeForCausalLM"],
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "decoder_sparse_step": 1,
    "eos_token_id": 151643,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 5632,
    "max_position_embeddings": 8192,
    "max_window_layers": 21,
    "model_type": "qwen2_moe",
    "moe_intermediate_size": 1408,
    "norm_topk_prob": False,
    "num_attention_heads": 16,
    "num_experts": 60,
    "num_experts_per_tok": 4,
    "num_hidden_layers": 24,
    "num_key_value_heads": 16,
    "output_router_logits": False,
    "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.001,
    "shared_expert_intermediate_size": 5632,
    "sliding_window": 32768,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.39.0.dev0",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}

_QWEN3_30B = {
    "architectures": ["Qwen3MoeForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": 151643,
    "decoder_sparse_step": 1,
    "eos_token_id": 151645,
    "head_dim": 128,
    "hidden_act": "silu",
    "hidden_size": 2048,
    "initializer_range": 0.02,
    "intermediate_size": 6144,
    "max_position_embeddings": 40960,
    "max_window_layers": 48,
    "mlp_only_layers": [],
    "model_type": "qwen3_moe",
    "moe_intermediate_size": 768,
    "norm_topk_prob": True,
    "num_attention_heads": 32,
    "num_experts": 128,
    "num_experts_per_tok": 8,
    "num_hidden_layers": 48,
    "num_key_value_heads": 4,
    "output_router_logits": False,
    "rms_norm_eps": 1e-06,
    "rope_scaling": None,
    "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.001,
    "sliding_window": None,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.51.0",
    "use_cache": True,
    "use_sliding_window": False,
    "vocab_size": 151936,
}

_MIXTRAL_8X22B = {
    **_mixtral(6144, 16384, 48, 56, 65536),
    "rope_theta": 1000000,
    "router_aux_loss_coef": 0.001,
    "router_jitter_noise": 0.0,
    "transformers_version": "4.38.0",
}


def _entry(
    name: str, hf_id: str, config: dict[str, Any], total: Published, **kw: Any
) -> CatalogEntry:
    return CatalogEntry(name, hf_id, config, _HF.format(hf_id), total, **kw)


_MIXTRAL_7B_SRC = "Mistral AI, 'Mixtral of experts' (mistral.ai/news/mixtral-of-experts, Dec 2023)"
_MIXTRAL_22B_SRC = "Mistral AI, 'Cheaper, Better, Faster, Stronger' (mistral.ai/news/mixtral-8x22b)"
_V2_SRC = "DeepSeek-V2 paper (arXiv:2405.04434), section 3.1"
_QWEN3_SRC = "model card of Qwen/Qwen3-30B-A3B: '30.5B in total and 3.3B activated'"
_QWEN15_SRC = "model card of Qwen/Qwen1.5-MoE-A2.7B: '14.3B parameters in total and 2.7B activated'"

MOE: tuple[CatalogEntry, ...] = (
    _entry(
        "mixtral-8x7b",
        "mistralai/Mixtral-8x7B-v0.1",
        _mixtral(4096, 14336, 32, 32, 32768),
        Published(46.7e9, 0.1e9, _MIXTRAL_7B_SRC + ": 46.7B total"),
        active=Published(12.9e9, 0.1e9, _MIXTRAL_7B_SRC + ": 12.9B used per token"),
    ),
    _entry(
        "mixtral-8x22b",
        "mistralai/Mixtral-8x22B-v0.1",
        _MIXTRAL_8X22B,
        Published(141e9, 1e9, _MIXTRAL_22B_SRC + ": 141B parameters"),
        active=Published(39e9, 1e9, _MIXTRAL_22B_SRC + ": 39B active"),
    ),
    _entry(
        "deepseek-v2",
        "deepseek-ai/DeepSeek-V2",
        _DEEPSEEK_V2,
        Published(236e9, 1e9, _V2_SRC + ": 236B total parameters"),
        active=Published(21e9, 1e9, _V2_SRC + ": 21B activated. " + _DEEPSEEK_ACTIVE, True),
    ),
    _entry(
        "deepseek-v3",
        "deepseek-ai/DeepSeek-V3",
        _DEEPSEEK_V3,
        Published(
            671e9,
            1e9,
            "DeepSeek-V3 report (arXiv:2412.19437) and README: 671B main-model parameters; "
            "the 685B on Hugging Face adds the 14B multi-token-prediction module",
        ),
        active=Published(36.6e9, 0.1e9, _DEEPSEEK_ACTIVE + "; the README rounds it to 37B", True),
    ),
    _entry(
        "qwen1.5-moe-a2.7b",
        "Qwen/Qwen1.5-MoE-A2.7B",
        _QWEN15_MOE,
        Published(14.3e9, 0.1e9, _QWEN15_SRC),
        active=Published(2.7e9, 0.1e9, _QWEN15_SRC),
    ),
    _entry(
        "qwen3-30b-a3b",
        "Qwen/Qwen3-30B-A3B",
        _QWEN3_30B,
        Published(30.5e9, 0.1e9, _QWEN3_SRC),
        active=Published(3.3e9, 0.1e9, _QWEN3_SRC),
    ),
)
