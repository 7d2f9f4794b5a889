"""Dense catalog models: Llama 2/3.1 70B and Mistral's 8B and 24B models.

The lecture's SLM table lists "Mistral Small 8B"; Mistral's 8B model is Ministral 8B, and
Mistral Small is the 24B model, so both are here under their real names.
"""

from __future__ import annotations

from ponder.deploy.catalog.entry import CatalogEntry, Published

_HF = "https://huggingface.co/{}/blob/main/config.json"

_LLAMA_70B_BLOCK = {
    "architectures": ["LlamaForCausalLM"],
    "hidden_act": "silu",
    "hidden_size": 8192,
    "initializer_range": 0.02,
    "intermediate_size": 28672,
    "model_type": "llama",
    "num_attention_heads": 64,
    "num_hidden_layers": 80,
    "num_key_value_heads": 8,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "tie_word_embeddings": False,
    "use_cache": True,
}

LLAMA_2_70B = CatalogEntry(
    name="llama-2-70b",
    hf_id="meta-llama/Llama-2-70b-hf",
    config={
        **_LLAMA_70B_BLOCK,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "max_position_embeddings": 4096,
        "rope_scaling": None,
        "torch_dtype": "float16",
        "transformers_version": "4.32.0.dev0",
        "vocab_size": 32000,
    },
    config_source=_HF.format("meta-llama/Llama-2-70b-hf"),
    total=Published(
        69e9,
        1e9,
        "Hugging Face page of meta-llama/Llama-2-70b-hf: 'Model size 69B params' (safetensors "
        "metadata); the Llama 2 paper (arXiv:2307.09288) rounds it to 70B",
    ),
    aliases=("llama2-70b",),
)

LLAMA_31_70B = CatalogEntry(
    name="llama-3.1-70b",
    hf_id="meta-llama/Llama-3.1-70B",
    config={
        **_LLAMA_70B_BLOCK,
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": 128000,
        "eos_token_id": 128001,
        "max_position_embeddings": 131072,
        "mlp_bias": False,
        "rope_scaling": {
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3",
        },
        "rope_theta": 500000.0,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.43.0.dev0",
        "vocab_size": 128256,
    },
    config_source=_HF.format("meta-llama/Llama-3.1-70B"),
    total=Published(
        70.6e9,
        0.1e9,
        "Hugging Face page of meta-llama/Llama-3.1-70B: 'Model size 70.6B params' (safetensors "
        "metadata); the Llama 3.1 model card names it 70B",
    ),
    aliases=("llama-3.1-70b-instruct", "llama3.1-70b"),
)

MINISTRAL_8B = CatalogEntry(
    name="ministral-8b",
    hf_id="mistralai/Ministral-8B-Instruct-2410",
    config={
        "architectures": ["MistralForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 128,
        "hidden_act": "silu",
        "hidden_size": 4096,
        "initializer_range": 0.02,
        "intermediate_size": 12288,
        "max_position_embeddings": 32768,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 36,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-05,
        "rope_theta": 100000000.0,
        "sliding_window": 32768,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.46.0.dev0",
        "use_cache": True,
        "vocab_size": 131072,
    },
    config_source=_HF.format("mistralai/Ministral-8B-Instruct-2410"),
    total=Published(
        8.02e9,
        0.01e9,
        "Hugging Face page of mistralai/Ministral-8B-Instruct-2410: 'Model size 8.02B params'; "
        "Mistral's announcement 'Un Ministral, des Ministraux' (Oct 2024) names it 8B",
    ),
    aliases=("mistral-small-8b", "ministral-8b-instruct"),
    notes="the 8B row of the lecture's SLM table ('Mistral Small 8B')",
)

MISTRAL_SMALL_24B = CatalogEntry(
    name="mistral-small-24b",
    hf_id="mistralai/Mistral-Small-24B-Instruct-2501",
    config={
        "architectures": ["MistralForCausalLM"],
        "attention_dropout": 0.0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "head_dim": 128,
        "hidden_act": "silu",
        "hidden_size": 5120,
        "initializer_range": 0.02,
        "intermediate_size": 32768,
        "max_position_embeddings": 32768,
        "model_type": "mistral",
        "num_attention_heads": 32,
        "num_hidden_layers": 40,
        "num_key_value_heads": 8,
        "rms_norm_eps": 1e-05,
        "rope_theta": 100000000.0,
        "sliding_window": None,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.49.0.dev0",
        "use_cache": True,
        "vocab_size": 131072,
    },
    config_source=_HF.format("mistralai/Mistral-Small-24B-Instruct-2501"),
    total=Published(
        23.6e9,
        0.1e9,
        "Hugging Face page of mistralai/Mistral-Small-24B-Instruct-2501: 'Model size 23.6B "
        "params'; Mistral's 'Mistral Small 3' announcement (Jan 2025) names it 24B",
    ),
    aliases=("mistral-small", "mistral-small-3"),
)

DENSE: tuple[CatalogEntry, ...] = (LLAMA_2_70B, LLAMA_31_70B, MINISTRAL_8B, MISTRAL_SMALL_24B)
