"""Weight formats (dtypes and quantisations) and KV-cache dtypes.

Bits per weight of the GGUF types come from the block layouts in llama.cpp's
``ggml-common.h`` (e.g. Q8_0: 32 int8 weights + one fp16 scale = 8.5 bits). The ``_S``/``_M``
mixes quantise some tensors at a higher type; their figure is the typical average
llama.cpp's ``llama-quantize`` reports for Llama-class models, so it is marked approximate.
"""

from __future__ import annotations

from dataclasses import dataclass

from ponder.errors import UnknownDtypeError


@dataclass(frozen=True)
class WeightFormat:
    """How many bits one weight takes in memory, and how vLLM is told about it."""

    name: str
    bits_per_weight: float
    exact: bool
    note: str
    vllm_quantization: str | None = None

    @property
    def bytes_per_weight(self) -> float:
        return self.bits_per_weight / 8


def _fmt(
    name: str, bits: float, note: str, exact: bool = True, vllm: str | None = None
) -> WeightFormat:
    return WeightFormat(name, bits, exact, note, vllm)


WEIGHT_FORMATS: dict[str, WeightFormat] = {
    f.name: f
    for f in (
        _fmt("fp32", 32, "IEEE float32"),
        _fmt("bf16", 16, "bfloat16, the usual serving dtype"),
        _fmt("fp16", 16, "IEEE float16"),
        _fmt("fp8", 8, "FP8 E4M3 weights (per-tensor or 128x128 block scales)", vllm="fp8"),
        _fmt("int8", 8, "8-bit integer weights, per-channel scales (negligible)"),
        _fmt("int4", 4, "4-bit integer weights without scales (a lower bound)"),
        _fmt("awq", 4.25, "AWQ int4, group 128: fp16 scale and zero per group", vllm="awq"),
        _fmt("gptq", 4.25, "GPTQ int4, group 128: fp16 scale and zero per group", vllm="gptq"),
        _fmt("q8_0", 8.5, "GGUF Q8_0: 32 int8 + fp16 scale per block"),
        _fmt("q6_k", 6.5625, "GGUF Q6_K super-block"),
        _fmt("q5_k_m", 5.69, "GGUF Q5_K_M mix (Q5_K with some Q6_K)", exact=False),
        _fmt("q5_k_s", 5.54, "GGUF Q5_K_S mix", exact=False),
        _fmt("q5_0", 5.5, "GGUF Q5_0 block"),
        _fmt("q5_1", 6.0, "GGUF Q5_1 block"),
        _fmt("q4_k_m", 4.85, "GGUF Q4_K_M mix (Q4_K with some Q6_K)", exact=False),
        _fmt("q4_k_s", 4.58, "GGUF Q4_K_S mix", exact=False),
        _fmt("q4_0", 4.5, "GGUF Q4_0: 32 4-bit + fp16 scale per block"),
        _fmt("q4_1", 5.0, "GGUF Q4_1: adds an fp16 minimum per block"),
        _fmt("q3_k_m", 3.91, "GGUF Q3_K_M mix", exact=False),
        _fmt("q2_k", 2.96, "GGUF Q2_K mix", exact=False),
    )
}

_WEIGHT_ALIASES = {
    "float32": "fp32",
    "bfloat16": "bf16",
    "float16": "fp16",
    "half": "fp16",
    "f16": "fp16",
    "f32": "fp32",
    "fp8_e4m3": "fp8",
    "e4m3": "fp8",
    "int4_awq": "awq",
    "w4a16": "gptq",
}

# KV cache: bytes per element. "auto" stores the model's activation dtype (bf16 or fp16).
KV_DTYPE_BYTES: dict[str, int] = {
    "auto": 2,
    "fp16": 2,
    "bf16": 2,
    "fp32": 4,
    "fp8": 1,
    "fp8_e4m3": 1,
    "fp8_e5m2": 1,
}
_KV_ALIASES = {"float16": "fp16", "bfloat16": "bf16", "half": "fp16", "float32": "fp32"}


def weight_format(name: str) -> WeightFormat:
    """Look up a weight format by name (case-insensitive; ``bfloat16``, ``Q4_K_M`` ...)."""
    key = name.strip().lower()
    key = _WEIGHT_ALIASES.get(key, key)
    if key not in WEIGHT_FORMATS:
        known = ", ".join(WEIGHT_FORMATS)
        raise UnknownDtypeError(f"unknown weight dtype {name!r}; use one of: {known}")
    return WEIGHT_FORMATS[key]


def kv_dtype_name(name: str) -> str:
    """Normalise a KV-cache dtype name; raise if unknown."""
    key = name.strip().lower()
    key = _KV_ALIASES.get(key, key)
    if key not in KV_DTYPE_BYTES:
        known = ", ".join(KV_DTYPE_BYTES)
        raise UnknownDtypeError(f"unknown KV-cache dtype {name!r}; use one of: {known}")
    return key


def kv_dtype_bytes(name: str) -> int:
    """Bytes per cached element for a KV-cache dtype."""
    return KV_DTYPE_BYTES[kv_dtype_name(name)]


def vllm_kv_cache_dtype(name: str) -> str:
    """The value for vLLM's ``--kv-cache-dtype``: 16-bit caches are vLLM's ``auto``."""
    key = kv_dtype_name(name)
    return "auto" if key in ("auto", "fp16", "bf16", "fp32") else key
