"""Why the serve planner chose its layout, in sentences a person can check."""

from __future__ import annotations

from ponder.deploy.arch import Architecture
from ponder.deploy.capacity import MemoryPlan
from ponder.deploy.comm import ep_traffic_sentence
from ponder.deploy.gpus import GPU
from ponder.deploy.kv import kv_bytes_for_context, kv_elements_per_token_layer
from ponder.deploy.memory import weight_bytes
from ponder.deploy.units import fmt_bytes, fmt_count, gib


def _weights(arch: Architecture, gpu: GPU, plan: MemoryPlan) -> str:
    weights = weight_bytes(arch, plan.weight_dtype)
    budget = plan.stages[0].budget
    share = "fits on one GPU" if weights < budget else "must be shared by several GPUs"
    return (
        f"{arch.name} has {fmt_count(arch.total_params)} parameters "
        f"({fmt_count(arch.active_params)} active per token); in {plan.weight_dtype} that is "
        f"{gib(weights):.1f} GiB of weights. One {gpu.name} gives vLLM {gib(budget):.1f} GiB at "
        f"gpu_memory_utilization={plan.gpu_memory_utilization}, so the model {share}."
    )


def _experts(arch: Architecture, plan: MemoryPlan) -> list[str]:
    moe, lay = arch.moe, plan.layout
    if moe is None:
        return []
    frac = arch.params.components()["routed_experts"] / arch.total_params
    if lay.ep:
        per_gpu = moe.num_experts / lay.ep_size
        return [
            f"Routed experts hold {frac:.0%} of the weights and each token visits only "
            f"{moe.experts_per_token} of {moe.num_experts}, so expert parallelism places whole "
            f"experts on GPUs (EP={lay.ep_size}, about {per_gpu:g} per GPU) instead of slicing "
            "every expert; tokens reach their experts by all-to-all.",
            ep_traffic_sentence(arch, lay.ep_size, tokens=max(1, round(plan.concurrency))),
        ]
    if lay.tp * lay.dp > 1 and lay.dp > 1:
        return [
            f"Each of the {lay.dp} replicas holds all experts: the model fits per replica, and "
            "expert parallelism would add all-to-all traffic without being needed."
        ]
    return []


def _attention(arch: Architecture, plan: MemoryPlan) -> list[str]:
    a, lay = arch.attention, plan.layout
    out = []
    if a.is_mla:
        width = kv_elements_per_token_layer(arch)
        out.append(
            f"MLA caches one {width}-element latent per layer (kv_lora_rank + qk_rope_head_dim) "
            "and every TP rank keeps all of it, so tensor parallelism does not shrink the KV "
            "cache; data-parallel attention multiplies it."
        )
    elif lay.tp > a.num_kv_heads:
        out.append(
            f"TP={lay.tp} exceeds the model's {a.num_kv_heads} KV heads: each KV head is "
            f"replicated on {lay.tp // a.num_kv_heads} GPUs, so the KV cache per GPU stops "
            f"shrinking beyond TP={a.num_kv_heads}."
        )
    return out


def _parallel(gpu: GPU, plan: MemoryPlan) -> list[str]:
    lay, out = plan.layout, []
    if lay.tp > 1:
        link = "NVLink" if gpu.nvlink else "PCIe (no NVLink: all-reduce is slower)"
        out.append(f"TP={lay.tp} splits every layer's heads and MLP over {lay.tp} GPUs via {link}.")
    if lay.pp > 1:
        out.append(
            f"PP={lay.pp} splits the layers into {lay.pp} stages, chosen because it leaves more "
            "memory for requests than the alternatives; it adds pipeline bubbles."
        )
    if lay.dp > 1 and lay.ep:
        out.append(
            f"DP={lay.dp} runs attention as {lay.dp} data-parallel ranks, each with its own "
            "requests and KV cache; the MoE layers are shared through expert parallelism."
        )
    elif lay.dp > 1:
        out.append(f"DP={lay.dp} runs {lay.dp} replicas that serve requests independently.")
    return out


def _kv(arch: Architecture, plan: MemoryPlan, target: int) -> str:
    per_request = kv_bytes_for_context(arch, plan.context, plan.kv_dtype)
    meets = "meets" if plan.total_concurrency >= target else "falls short of"
    return (
        f"At {plan.context:,} tokens one request needs {fmt_bytes(per_request)} of KV cache "
        f"({plan.kv_dtype}); each replica holds {plan.kv_tokens:,} tokens, i.e. "
        f"{plan.concurrency:.1f} full-length requests, {plan.total_concurrency:.1f} in all, "
        f"which {meets} the target of {target}."
    )


def explain(arch: Architecture, gpu: GPU, plan: MemoryPlan, target: int) -> list[str]:
    """Reasons for ``plan``, most important first."""
    stage = plan.stages[-1]
    tail = (
        f"Activations ({fmt_bytes(stage.activations)}) and runtime overhead "
        f"({fmt_bytes(stage.overhead)}) per GPU are estimates (see MemoryAssumptions)."
    )
    return [
        _weights(arch, gpu, plan),
        *_experts(arch, plan),
        *_attention(arch, plan),
        *_parallel(gpu, plan),
        _kv(arch, plan, target),
        tail,
    ]
