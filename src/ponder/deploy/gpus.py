"""GPU catalog: memory that CUDA reports, bandwidth, dense 16-bit tensor throughput.

``memory_mib`` is the total ``nvidia-smi`` reports for the card (slightly below the marketed
size: 80 GB H100 -> 81,559 MiB); vLLM's ``gpu_memory_utilization`` is a fraction of it.
Bandwidth and TFLOPS are NVIDIA's datasheet figures (dense, without sparsity).
"""

from __future__ import annotations

from dataclasses import dataclass

from ponder.deploy.units import MIB
from ponder.errors import UnknownGPUError


@dataclass(frozen=True)
class GPU:
    name: str
    memory_mib: int
    bandwidth_gbs: float
    bf16_tflops: float
    fp8: bool
    nvlink: bool
    gpus_per_node: int
    source: str
    kind: str = "gpu"
    aliases: tuple[str, ...] = ()

    @property
    def memory_bytes(self) -> int:
        return self.memory_mib * MIB


_SMI = "total memory as reported by nvidia-smi"

GPUS: tuple[GPU, ...] = (
    GPU(
        "H100-80GB",
        81559,
        3350,
        989,
        True,
        True,
        8,
        f"NVIDIA H100 datasheet (SXM5: 80 GB HBM3, 3.35 TB/s, 989 TFLOPS bf16); {_SMI}",
        aliases=("h100", "h100-sxm", "h100-80g"),
    ),
    GPU(
        "H200-141GB",
        143771,
        4800,
        989,
        True,
        True,
        8,
        f"NVIDIA H200 datasheet (SXM: 141 GB HBM3e, 4.8 TB/s, 989 TFLOPS bf16); {_SMI}",
        aliases=("h200", "h200-sxm"),
    ),
    GPU(
        "A100-80GB",
        81920,
        2039,
        312,
        False,
        True,
        8,
        f"NVIDIA A100 datasheet (SXM4 80 GB HBM2e, 2.04 TB/s, 312 TFLOPS bf16); {_SMI}",
        aliases=("a100-80g", "a100-sxm4-80gb"),
    ),
    GPU(
        "A100-40GB",
        40960,
        1555,
        312,
        False,
        True,
        8,
        f"NVIDIA A100 datasheet (SXM4 40 GB HBM2, 1.56 TB/s, 312 TFLOPS bf16); {_SMI}",
        aliases=("a100", "a100-40g"),
    ),
    GPU(
        "L40S",
        46068,
        864,
        362,
        True,
        False,
        8,
        f"NVIDIA L40S datasheet (48 GB GDDR6, 864 GB/s, 362 TFLOPS bf16, PCIe); {_SMI}",
        aliases=("l40s-48gb",),
    ),
    GPU(
        "L4",
        23034,
        300,
        121,
        True,
        False,
        8,
        f"NVIDIA L4 datasheet (24 GB GDDR6, 300 GB/s, 121 TFLOPS bf16, PCIe); {_SMI}",
        aliases=("l4-24gb",),
    ),
    GPU(
        "RTX-4090",
        24564,
        1008,
        165,
        True,
        False,
        4,
        f"NVIDIA GeForce RTX 4090 specifications (24 GB GDDR6X, 1,008 GB/s; 165 TFLOPS "
        f"bf16 with fp32 accumulate); {_SMI}",
        aliases=("4090", "rtx4090"),
    ),
    GPU(
        "CPU-16GB",
        16384,
        100,
        1,
        False,
        False,
        1,
        "a laptop or small server without a usable GPU: 16 GiB RAM shared with the OS, "
        "~100 GB/s dual-channel DDR5; served with llama.cpp rather than vLLM",
        kind="cpu",
        aliases=("cpu", "laptop", "laptop-16gb"),
    ),
)


def gpu_names() -> list[str]:
    return [g.name for g in GPUS]


def find_gpu(name: str) -> GPU:
    """A GPU by name or alias (case-insensitive, ``_`` and spaces read as ``-``)."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    for gpu in GPUS:
        if key == gpu.name.lower() or key in gpu.aliases:
            return gpu
    raise UnknownGPUError(f"unknown GPU {name!r}; use one of: {', '.join(gpu_names())}")
