"""What a layout can serve: KV tokens that fit and concurrent requests at a context length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.dtypes import weight_format
from ponder.deploy.gpus import GPU
from ponder.deploy.kv import kv_bytes_for_context, kv_bytes_per_token
from ponder.deploy.memory import MemoryAssumptions, StageMemory, per_gpu_memory
from ponder.deploy.parallel import Layout
from ponder.deploy.units import gib
from ponder.errors import PlanError


@dataclass(frozen=True)
class MemoryPlan:
    """Per-GPU memory of one layout and the requests it can hold at ``context`` tokens."""

    model: str
    gpu: str
    layout: Layout
    weight_dtype: str
    kv_dtype: str
    context: int
    gpu_memory_utilization: float
    stages: tuple[StageMemory, ...]
    request_tokens: float

    @property
    def kv_tokens(self) -> int:
        """KV tokens per replica: every stage must hold a token's layers, so the minimum."""
        return min(s.kv_tokens for s in self.stages)

    @property
    def concurrency(self) -> float:
        """Requests at full context one replica holds at once (vLLM's 'maximum concurrency')."""
        return self.kv_tokens / self.request_tokens

    @property
    def total_concurrency(self) -> float:
        return self.concurrency * self.layout.dp

    @property
    def fits(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        """What does not fit, each with what to change."""
        worst = max(self.stages, key=lambda s: s.weights + s.activations + s.overhead)
        if worst.kv_pool <= 0:
            need = gib(worst.weights + worst.activations + worst.overhead)
            return [
                f"weights, activations and overhead need {need:.1f} GiB per GPU but "
                f"{self.gpu} offers {gib(worst.budget):.1f} GiB at gpu_memory_utilization="
                f"{self.gpu_memory_utilization}: use more GPUs, a larger GPU or a smaller "
                "--dtype (fp8, awq)"
            ]
        if self.kv_tokens < self.request_tokens:
            return [
                f"the KV cache holds {self.kv_tokens:,} tokens per replica, fewer than one "
                f"request of {self.context:,} tokens: lower --context, use --kv-dtype fp8, "
                "raise --gpu-memory-utilization or add GPUs"
            ]
        return []

    def to_dict(self) -> dict[str, Any]:
        stages = [
            {
                "stage": s.stage,
                "layers": s.layers,
                "capacity_bytes": s.capacity,
                "budget_bytes": s.budget,
                "weights_bytes": s.weights,
                "activations_bytes": s.activations,
                "overhead_bytes": s.overhead,
                "kv_pool_bytes": max(0, s.kv_pool),
                "kv_bytes_per_token": s.kv_bytes_per_token,
                "kv_tokens": s.kv_tokens,
            }
            for s in self.stages
        ]
        return {
            "model": self.model,
            "gpu": self.gpu,
            "layout": {
                "tp": self.layout.tp,
                "pp": self.layout.pp,
                "dp": self.layout.dp,
                "ep": self.layout.ep,
                "ep_size": self.layout.ep_size,
            },
            "weight_dtype": self.weight_dtype,
            "kv_dtype": self.kv_dtype,
            "context": self.context,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "stages": stages,
            "kv_tokens_per_replica": self.kv_tokens,
            "concurrency_per_replica": round(self.concurrency, 2),
            "total_concurrency": round(self.total_concurrency, 2),
            "fits": self.fits,
            "problems": self.problems(),
        }


def check_context(arch: Architecture, context: int) -> None:
    """Refuse a context longer than the model's ``max_position_embeddings``, as vLLM does."""
    if arch.max_context and context > arch.max_context:
        raise PlanError(
            f"context {context:,} exceeds {arch.name}'s max_position_embeddings "
            f"{arch.max_context:,}; lower --context to at most {arch.max_context:,}"
        )


def plan_memory(
    arch: Architecture,
    gpu: GPU,
    layout: Layout,
    context: int,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    assumptions: MemoryAssumptions | None = None,
) -> MemoryPlan:
    """Memory per GPU and requests at ``context`` for ``arch`` on ``layout`` x ``gpu``."""
    check_context(arch, context)
    a = assumptions or MemoryAssumptions()
    fmt = weight_format(weight_dtype or arch.weight_dtype)
    stages = per_gpu_memory(arch, gpu, layout, fmt.name, kv_dtype, a)
    # Sliding-window layers keep only their window: a request costs fewer "full" tokens.
    saving = kv_bytes_for_context(arch, context, kv_dtype) / (
        kv_bytes_per_token(arch, kv_dtype) * context
    )
    return MemoryPlan(
        model=arch.name,
        gpu=gpu.name,
        layout=layout,
        weight_dtype=fmt.name,
        kv_dtype=kv_dtype,
        context=context,
        gpu_memory_utilization=a.gpu_memory_utilization,
        stages=tuple(stages),
        request_tokens=context * saving,
    )
