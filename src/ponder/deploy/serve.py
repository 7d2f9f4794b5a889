"""The serve planner: pick a layout for N GPUs, print the vLLM command, say why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.capacity import MemoryPlan, check_context, plan_memory
from ponder.deploy.comm import AllToAll, ep_all_to_all
from ponder.deploy.dtypes import weight_format
from ponder.deploy.explain import explain
from ponder.deploy.gpus import GPU
from ponder.deploy.memory import MemoryAssumptions, activation_bytes, overhead_bytes, weight_bytes
from ponder.deploy.parallel import Layout, candidate_layouts
from ponder.deploy.units import gib
from ponder.deploy.vllm import llama_cpp_command, vllm_command
from ponder.errors import DoesNotFitError, PlanError


@dataclass(frozen=True)
class ServePlan:
    """The chosen layout, its memory, the command to run it and the reasons."""

    memory: MemoryPlan
    command: str
    reasons: list[str]
    target_concurrency: int
    alternatives: list[MemoryPlan] = field(default_factory=list)
    all_to_all: AllToAll | None = None

    @property
    def layout(self) -> Layout:
        return self.memory.layout

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "reasons": self.reasons,
            "target_concurrency": self.target_concurrency,
            "memory": self.memory.to_dict(),
            "alternatives": [
                {
                    "layout": m.layout.describe(),
                    "total_concurrency": round(m.total_concurrency, 2),
                    "why_not": why_not(self.memory, m, self.target_concurrency),
                }
                for m in self.alternatives
            ],
            "ep_all_to_all_per_token_layer": self.all_to_all.to_dict() if self.all_to_all else None,
        }


def why_not(chosen: MemoryPlan, other: MemoryPlan, target: int) -> str:
    """Why ``other`` ranks below ``chosen`` (the order ``_rank`` sorts by)."""
    a, b = chosen.layout, other.layout
    if other.total_concurrency < min(target, chosen.total_concurrency):
        return f"holds fewer requests ({other.total_concurrency:.1f})"
    more = other.total_concurrency > chosen.total_concurrency
    lead = f"holds more, but the chosen layout already meets the target of {target}; "
    prefix = lead if more and chosen.total_concurrency >= target else ""
    if b.tp * b.pp > a.tp * a.pp:
        return prefix + (
            f"{b.tp * b.pp} GPUs per replica instead of {a.tp * a.pp} "
            "(more inter-GPU traffic per token, fewer independent replicas)"
        )
    if b.pp > a.pp:
        return prefix + "pipeline parallelism adds bubbles between stages"
    if b.ep != a.ep:
        return (
            prefix + ("expert parallelism " + ("on" if b.ep else "off")) + " fits this model worse"
        )
    return prefix + "ranks lower on the same criteria"


def routed_fraction(arch: Architecture) -> float:
    """Share of all parameters held by routed experts (0 for dense models)."""
    return arch.params.components()["routed_experts"] / arch.total_params


def _rank(arch: Architecture, gpu: GPU, target: int, plan: MemoryPlan) -> tuple[Any, ...]:
    """Sort key. Among layouts that meet the target: TP inside one node, fewest GPUs per
    replica, no PP, expert parallelism where experts dominate a sharded model. Among those that
    do not: the most concurrent requests."""
    lay = plan.layout
    want_ep = routed_fraction(arch) > 0.5 and lay.tp * lay.pp > 1
    meets = plan.total_concurrency >= target
    return (
        not meets,
        lay.tp > gpu.gpus_per_node,
        0 if not meets else lay.tp * lay.pp,
        -plan.total_concurrency if not meets else 0,
        lay.pp,
        lay.ep != want_ep,
        -plan.total_concurrency,
    )


def _no_fit(arch: Architecture, gpu: GPU, count: int, dtype: str, a: MemoryAssumptions) -> str:
    """Message for when no layout fits: how many GPUs the weights alone would need."""
    weights = weight_bytes(arch, dtype)
    one = Layout()
    spare = gpu.memory_bytes * a.gpu_memory_utilization - overhead_bytes(gpu, one, a)
    spare -= activation_bytes(arch, one, a, last=True)
    need = max(1, int(-(-weights // max(spare, 1))))
    return (
        f"{arch.name} does not fit on {count} x {gpu.name}: its {dtype} weights take "
        f"{gib(weights):.1f} GiB and each GPU has about {gib(spare):.1f} GiB for them at "
        f"gpu_memory_utilization={a.gpu_memory_utilization}. Use at least {need + 1} GPUs "
        "(weights plus KV cache), a larger GPU, a smaller --dtype (fp8, awq) or a shorter --context"
    )


def plan_serve(
    arch: Architecture,
    gpu: GPU,
    count: int,
    context: int,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    target_concurrency: int = 16,
    assumptions: MemoryAssumptions | None = None,
) -> ServePlan:
    """Choose a layout of ``count`` x ``gpu`` for ``arch`` at ``context`` tokens."""
    if count < 1:
        raise PlanError(f"GPU count must be at least 1, got {count}; pass --count 1 or more")
    check_context(arch, context)
    a = assumptions or MemoryAssumptions()
    dtype = weight_format(weight_dtype or arch.weight_dtype).name
    plans = [
        plan_memory(arch, gpu, lay, context, dtype, kv_dtype, a)
        for lay in candidate_layouts(arch, count)
    ]
    fitting = sorted(
        (p for p in plans if p.fits), key=lambda p: _rank(arch, gpu, target_concurrency, p)
    )
    if not plans:
        raise DoesNotFitError(
            f"no valid layout of {count} GPUs for {arch.name}: tensor parallelism must divide its "
            f"{arch.attention.num_heads} heads; use a GPU count such as 1, 2, 4 or 8"
        )
    if not fitting:
        kv_short = [p for p in plans if min(s.kv_pool for s in p.stages) > 0]
        if kv_short:
            raise DoesNotFitError(max(kv_short, key=lambda p: p.kv_tokens).problems()[0])
        raise DoesNotFitError(_no_fit(arch, gpu, count, dtype, a))
    best = fitting[0]
    if gpu.kind == "cpu":
        command = llama_cpp_command(arch, gpu, context, dtype)
    else:
        util = a.gpu_memory_utilization
        command = vllm_command(arch, best.layout, context, dtype, kv_dtype, util)
    return ServePlan(
        memory=best,
        command=command,
        reasons=explain(arch, gpu, best, target_concurrency),
        target_concurrency=target_concurrency,
        alternatives=fitting[1:4],
        all_to_all=ep_all_to_all(arch, best.layout.ep_size) if best.layout.ep else None,
    )
