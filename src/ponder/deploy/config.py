"""Hugging Face ``config.json`` -> :class:`Architecture`.

Reads the fields that decide parameters and memory for dense, Mixtral-style, Qwen-MoE-style
and DeepSeek-style models (including multi-head latent attention). Fields it neither reads
nor knows to be irrelevant are reported in ``Architecture.unknown_fields``; defaults it had
to assume are listed in ``Architecture.assumptions``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from ponder.deploy.arch import Architecture, Attention
from ponder.deploy.config_moe import parse_moe
from ponder.errors import ArchitectureError, UnknownPlanModelError

# Fields that do not change parameter counts or memory; read elsewhere or deliberately unused.
_IRRELEVANT = frozenset(
    (
        "architectures",
        "auto_map",
        "_name_or_path",
        "transformers_version",
        "bos_token_id",
        "eos_token_id",
        "pad_token_id",
        "initializer_range",
        "rms_norm_eps",
        "layer_norm_eps",
        "rope_theta",
        "rope_scaling",
        "use_cache",
        "attention_dropout",
        "hidden_act",
        "hidden_activation",
        "output_router_logits",
        "router_aux_loss_coef",
        "router_jitter_noise",
        "aux_loss_alpha",
        "seq_aux",
        "scoring_func",
        "topk_method",
        "n_group",
        "topk_group",
        "norm_topk_prob",
        "routed_scaling_factor",
        "ep_size",
        "pretraining_tp",
        "attn_logit_softcapping",
        "final_logit_softcapping",
        "query_pre_attn_scalar",
        "cache_implementation",
        "embd_pdrop",
        "resid_pdrop",
        "original_max_position_embeddings",
        "use_mrope",
        "max_window_layers",
        "use_sliding_window",
        "model_type",
        "torch_dtype",
        "quantization_config",
        "tie_word_embeddings",
        "sliding_window",
        "layer_types",
        "sliding_window_pattern",
    )
)
_READ = frozenset(
    (
        "vocab_size",
        "hidden_size",
        "num_hidden_layers",
        "intermediate_size",
        "num_attention_heads",
        "num_key_value_heads",
        "head_dim",
        "attention_bias",
        "mlp_bias",
        "max_position_embeddings",
        "q_lora_rank",
        "kv_lora_rank",
        "qk_rope_head_dim",
        "qk_nope_head_dim",
        "v_head_dim",
        "num_nextn_predict_layers",
        "num_local_experts",
        "num_experts",
        "num_experts_per_tok",
        "n_routed_experts",
        "n_shared_experts",
        "moe_intermediate_size",
        "shared_expert_intermediate_size",
        "first_k_dense_replace",
        "moe_layer_freq",
        "decoder_sparse_step",
        "mlp_only_layers",
    )
)
_KNOWN_TYPES = frozenset(
    (
        "llama",
        "mistral",
        "mixtral",
        "qwen2",
        "qwen2_moe",
        "qwen3",
        "qwen3_moe",
        "phi3",
        "gemma",
        "gemma2",
        "gemma3_text",
        "deepseek_v2",
        "deepseek_v3",
        "olmo2",
    )
)
_QKV_BIAS_TYPES = frozenset({"qwen2", "qwen2_moe"})
_FOUR_NORM_TYPES = frozenset({"gemma2", "gemma3_text"})
_QK_NORM_TYPES = frozenset({"qwen3", "qwen3_moe", "gemma3_text", "olmo2"})


def need_int(cfg: Mapping[str, Any], key: str, what: str) -> int:
    """A required positive integer field, or an error that says which field to add."""
    value = cfg.get(key)
    if value is None:
        raise ArchitectureError(f"config is missing {key!r} ({what}); add it to the config.json")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ArchitectureError(f"config field {key!r} must be a positive integer, got {value!r}")
    return value


def _attention(cfg: Mapping[str, Any], model_type: str, hidden: int) -> Attention:
    heads = need_int(cfg, "num_attention_heads", "number of attention heads")
    kv_heads = cfg.get("num_key_value_heads") or heads
    if heads % kv_heads:
        raise ArchitectureError(
            f"num_key_value_heads={kv_heads} does not divide num_attention_heads={heads}; "
            "fix the config so the query heads split evenly into KV groups"
        )
    bias = bool(cfg.get("attention_bias", False))
    qkv_bias = bias or model_type in _QKV_BIAS_TYPES
    qk_norm = model_type in _QK_NORM_TYPES
    if cfg.get("kv_lora_rank"):
        nope = need_int(cfg, "qk_nope_head_dim", "MLA non-rotary head width")
        return Attention(
            head_dim=nope + need_int(cfg, "qk_rope_head_dim", "MLA rotary head width"),
            q_lora_rank=cfg.get("q_lora_rank") or None,
            kv_lora_rank=need_int(cfg, "kv_lora_rank", "MLA latent width"),
            qk_rope_head_dim=cfg["qk_rope_head_dim"],
            qk_nope_head_dim=nope,
            v_head_dim=need_int(cfg, "v_head_dim", "MLA value head width"),
            num_heads=heads,
            num_kv_heads=kv_heads,
            qkv_bias=qkv_bias,
            o_bias=bias,
            qk_norm=qk_norm,
        )
    head_dim = cfg.get("head_dim")
    if head_dim is None:
        if hidden % heads:
            raise ArchitectureError(
                f"hidden_size={hidden} is not a multiple of num_attention_heads={heads}; "
                "add 'head_dim' to the config"
            )
        head_dim = hidden // heads
    return Attention(
        num_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        qkv_bias=qkv_bias,
        o_bias=bias,
        qk_norm=qk_norm,
    )


def _sliding(
    cfg: Mapping[str, Any], model_type: str, layers: int
) -> tuple[int | None, tuple[int, ...]]:
    window = cfg.get("sliding_window")
    if not window or cfg.get("use_sliding_window") is False:
        return None, ()
    if cfg.get("layer_types"):
        kinds = cfg["layer_types"]
        return window, tuple(i for i, k in enumerate(kinds) if k == "sliding_attention")
    if model_type == "gemma2":
        return window, tuple(range(0, layers, 2))
    if model_type == "gemma3_text":
        pattern = cfg.get("sliding_window_pattern", 6)
        return window, tuple(i for i in range(layers) if (i + 1) % pattern)
    return window, tuple(range(layers))


def _weight_dtype(cfg: Mapping[str, Any], notes: list[str]) -> str:
    quant = cfg.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower()
    if method in ("fp8", "awq", "gptq"):
        return method
    if method:
        notes.append(f"quantization method {method!r} not modelled; weights taken as bf16")
        return "bf16"
    torch_dtype = cfg.get("torch_dtype")
    if torch_dtype == "float16":
        return "fp16"
    if torch_dtype != "bfloat16":
        notes.append(f"checkpoint dtype {torch_dtype!r}: assumed served in bf16, as vLLM does")
    return "bf16"


def architecture_from_config(
    config: Mapping[str, Any], name: str, hf_id: str | None = None, source: str | None = None
) -> Architecture:
    """Build an :class:`Architecture` from the fields of a Hugging Face ``config.json``."""
    cfg = dict(config)
    notes: list[str] = []
    if "text_config" in cfg and "hidden_size" not in cfg:
        notes.append("multimodal config: only text_config is counted (vision tower left out)")
        cfg = {**cfg.pop("text_config"), "torch_dtype": cfg.get("torch_dtype")}
    model_type = str(cfg.get("model_type", "unknown"))
    if model_type not in _KNOWN_TYPES:
        notes.append(f"model_type {model_type!r} not known: assumed a Llama-like block")
    hidden = need_int(cfg, "hidden_size", "model width")
    layers = need_int(cfg, "num_hidden_layers", "number of decoder layers")
    if "tie_word_embeddings" not in cfg:
        notes.append("tie_word_embeddings absent: assumed True, the Hugging Face default")
    window, sliding_layers = _sliding(cfg, model_type, layers)
    known = _READ | _IRRELEVANT
    return Architecture(
        name=name,
        model_type=model_type,
        vocab_size=need_int(cfg, "vocab_size", "vocabulary size"),
        hidden_size=hidden,
        num_layers=layers,
        intermediate_size=need_int(cfg, "intermediate_size", "MLP width"),
        attention=_attention(cfg, model_type, hidden),
        moe=parse_moe(cfg, layers),
        tie_embeddings=bool(cfg.get("tie_word_embeddings", True)),
        mlp_bias=bool(cfg.get("mlp_bias", False)),
        norms_per_layer=4 if model_type in _FOUR_NORM_TYPES else 2,
        max_context=cfg.get("max_position_embeddings"),
        sliding_window=window,
        sliding_layers=sliding_layers,
        weight_dtype=_weight_dtype(cfg, notes),
        mtp_layers=int(cfg.get("num_nextn_predict_layers") or 0),
        hf_id=hf_id,
        source=source,
        unknown_fields=tuple(sorted(k for k in cfg if k not in known)),
        assumptions=tuple(notes),
    )


def _read_json(path: Path) -> dict[str, Any]:
    if path.is_dir():
        path = path / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArchitectureError(f"cannot read {path}: {exc}; pass a valid config.json") from exc
    if not isinstance(data, dict):
        raise ArchitectureError(f"{path} does not hold a JSON object; pass a config.json")
    return data


def _names_for(path: Path, data: Mapping[str, Any]) -> tuple[str, str | None]:
    """(name, what ``vllm serve`` is given) for a config read from ``path``: the model
    folder as the user wrote it when there is one, the config's own name otherwise."""
    own = data.get("_name_or_path")
    if path.is_dir():
        return str(own or path.resolve().name), str(path)
    if path.name == "config.json":
        folder = path.parent
        return str(own or folder.resolve().name), str(folder)
    return str(own or path.stem), str(own) if own else None


def load_architecture(source: str | PathLike[str] | Mapping[str, Any]) -> Architecture:
    """An architecture from a catalog name, a ``config.json`` (or its folder), or a dict."""
    from ponder.deploy.catalog import find_model, model_names

    if isinstance(source, Mapping):
        name = str(source.get("_name_or_path") or source.get("model_type") or "custom")
        return architecture_from_config(source, name=name, source="dict")
    entry = find_model(str(source))
    if entry is not None:
        return architecture_from_config(
            entry.config, name=entry.name, hf_id=entry.hf_id, source=entry.config_source
        )
    path = Path(source)
    if path.exists():
        data = _read_json(path)
        name, served = _names_for(path, data)
        return architecture_from_config(data, name=name, hf_id=served, source=str(path))
    raise UnknownPlanModelError(
        f"{source!r} is neither a catalog model nor a config.json; use a path to a Hugging Face "
        f"config.json or one of: {', '.join(model_names())}"
    )
