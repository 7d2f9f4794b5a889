"""Write fine-tuned weights back into a GGUF the embedded backend runs.

The base GGUF is the template: every metadata key (tokenizer, chat template, rope,
context length) is copied, and its tensors are written in the same order under the same
names, from the fine-tuned transformers weights. For the llama architecture the names are

    model.embed_tokens            token_embd          model.norm          output_norm
    lm_head (when not tied)       output
    model.layers.N.input_layernorm           blk.N.attn_norm
    model.layers.N.self_attn.{q,k,v,o}_proj  blk.N.attn_{q,k,v,output}
    model.layers.N.post_attention_layernorm  blk.N.ffn_norm
    model.layers.N.mlp.{gate,up,down}_proj   blk.N.ffn_{gate,up,down}

and the query and key rows are permuted back into llama.cpp's rotary layout (transformers
undoes that permutation when it reads a GGUF). Norms stay float32; matrices take the
chosen type: ``q8_0`` (default: near-lossless, 1.06 bytes a weight), ``f16`` or ``f32``.
Re-quantising to 4 bits is not offered: a LoRA update is often smaller than a 4-bit step
and would be rounded away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ponder.distill.base import require_extra
from ponder.errors import ConfigError

TYPES = ("q8_0", "f16", "f32")
_LAYER = re.compile(r"^model\.layers\.(\d+)\.(.+)\.weight$")
_PER_LAYER = {
    "input_layernorm": "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}
_TOP = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}


def gguf_name(name: str) -> str | None:
    """The llama.cpp tensor name of a transformers llama weight (None: not a weight)."""
    if name in _TOP:
        return _TOP[name]
    match = _LAYER.match(name)
    if match and match.group(2) in _PER_LAYER:
        return f"blk.{match.group(1)}.{_PER_LAYER[match.group(2)]}.weight"
    return None


def permute_rotary(weight: Any, heads: int) -> Any:
    """transformers' q/k row order -> llama.cpp's (each head's halves interleaved)."""
    rows = weight.shape[0]
    return (
        weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:])
        .swapaxes(1, 2)
        .reshape(weight.shape)
    )


def _value(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        raise ConfigError(f"the base GGUF has no {key}")
    return field.contents()


def write_gguf(
    weights: Mapping[str, Any], base_gguf: Path, out: Path, qtype: str = "q8_0", name: str = ""
) -> Path:
    """Write ``weights`` (transformers names -> float32 numpy arrays) as a GGUF shaped
    like ``base_gguf``; atomic (a failure leaves no half-written file)."""
    require_extra()
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, LlamaFileType
    from gguf.quants import quantize

    if qtype not in TYPES:
        raise ConfigError(f"unknown GGUF type {qtype!r}: use {', '.join(TYPES)}")
    reader = GGUFReader(str(base_gguf))
    arch = _value(reader, "general.architecture")
    if arch != "llama":
        raise ConfigError(f"GGUF export supports the llama architecture, not {arch!r}")
    heads = int(_value(reader, "llama.attention.head_count"))
    kv_heads = int(_value(reader, "llama.attention.head_count_kv"))
    by_gguf = {g: k for k in weights if (g := gguf_name(k)) is not None}
    ggml = {
        "q8_0": GGMLQuantizationType.Q8_0,
        "f16": GGMLQuantizationType.F16,
        "f32": GGMLQuantizationType.F32,
    }[qtype]
    file_type = {
        "q8_0": LlamaFileType.MOSTLY_Q8_0,
        "f16": LlamaFileType.MOSTLY_F16,
        "f32": LlamaFileType.ALL_F32,
    }[qtype]
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(out.name + ".part")
    writer = GGUFWriter(str(part), arch)
    try:
        for key, field in reader.fields.items():
            if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
                continue
            if key == "general.name" and name:
                continue
            sub = field.types[1] if field.types[0] == GGUFValueType.ARRAY else None
            writer.add_key_value(key, field.contents(), field.types[0], sub)
        writer.add_uint32("general.file_type", int(file_type))
        if name:
            writer.add_name(name)
        for tensor in reader.tensors:
            source = by_gguf.get(tensor.name)
            if source is None:
                raise ConfigError(f"no fine-tuned weight for the base's tensor {tensor.name}")
            array = np.ascontiguousarray(np.asarray(weights[source], dtype=np.float32))
            if tensor.name.endswith(".attn_q.weight"):
                array = permute_rotary(array, heads)
            elif tensor.name.endswith(".attn_k.weight"):
                array = permute_rotary(array, kv_heads)
            expected = tuple(int(d) for d in reversed(tensor.shape.tolist()))
            if array.shape != expected:
                raise ConfigError(
                    f"{tensor.name}: the fine-tuned weight has shape {array.shape}, "
                    f"the base {expected}"
                )
            if array.ndim == 1 or tensor.tensor_type == GGMLQuantizationType.F32:
                writer.add_tensor(tensor.name, array)
            elif ggml == GGMLQuantizationType.Q8_0:
                packed = quantize(array, ggml)
                writer.add_tensor(tensor.name, packed, raw_shape=packed.shape, raw_dtype=ggml)
            else:
                writer.add_tensor(
                    tensor.name, array.astype(np.float16 if qtype == "f16" else np.float32)
                )
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    part.replace(out)
    return out


def merged_weights(train_dir: Path) -> tuple[dict[str, Any], Path, dict[str, Any]]:
    """(weights as float32 numpy, the base GGUF, the run's train.json) of a finished run."""
    import json

    require_extra()
    summary_file = train_dir / "train.json"
    if not summary_file.exists():
        raise ConfigError(f"{train_dir} holds no finished training run (no train.json)")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    base_file = Path(summary["base"])
    if base_file.suffix != ".gguf":
        raise ConfigError("GGUF export needs a run that started from a GGUF base")
    from ponder.distill.base import load_base

    if summary["options"]["method"] == "full":
        import torch
        from transformers import AutoModelForCausalLM

        folder = str(train_dir / "model")
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    else:
        from peft import PeftModel

        from ponder.distill.train import quiet_peft

        base = load_base(str(base_file), base_file)
        with quiet_peft():
            tuned = PeftModel.from_pretrained(base.model, str(train_dir / "adapter"))
        model = tuned.merge_and_unload()
    weights = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    return weights, base_file, summary
