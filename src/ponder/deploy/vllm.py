"""The command line that starts the planned deployment (vLLM, or llama.cpp on a CPU)."""

from __future__ import annotations

import shlex

from ponder.deploy.arch import Architecture
from ponder.deploy.dtypes import vllm_kv_cache_dtype, weight_format
from ponder.deploy.gpus import GPU
from ponder.deploy.parallel import Layout


def quantization_flag(arch: Architecture, weight_dtype: str) -> str | None:
    """vLLM's ``--quantization`` value when the served format differs from the checkpoint's."""
    fmt = weight_format(weight_dtype)
    if fmt.name == arch.weight_dtype or fmt.vllm_quantization is None:
        return None
    return fmt.vllm_quantization


def vllm_command(
    arch: Architecture,
    layout: Layout,
    context: int,
    weight_dtype: str,
    kv_dtype: str,
    gpu_memory_utilization: float,
) -> str:
    """The exact ``vllm serve`` invocation for a layout."""
    args = [
        "vllm",
        "serve",
        arch.hf_id or arch.name,
        "--tensor-parallel-size",
        str(layout.tp),
        "--pipeline-parallel-size",
        str(layout.pp),
        "--data-parallel-size",
        str(layout.dp),
    ]
    if layout.ep:
        args.append("--enable-expert-parallel")
    quant = quantization_flag(arch, weight_dtype)
    if quant:
        args += ["--quantization", quant]
    args += [
        "--max-model-len",
        str(context),
        "--kv-cache-dtype",
        vllm_kv_cache_dtype(kv_dtype),
        "--gpu-memory-utilization",
        f"{gpu_memory_utilization:g}",
    ]
    return shlex.join(args)


def llama_cpp_command(arch: Architecture, gpu: GPU, context: int, weight_dtype: str) -> str:
    """A ``llama-server`` invocation for CPU-only machines (GGUF file named after the model)."""
    fmt = weight_format(weight_dtype)
    gguf = f"{arch.name}-{fmt.name.upper()}.gguf"
    return shlex.join(["llama-server", "-m", gguf, "-c", str(context), "--host", "127.0.0.1"])
