"""Parallel layouts (tensor, pipeline, data, expert) and the weights each GPU holds.

Sharding follows vLLM: attention heads and MLP columns split over tensor parallelism (TP);
KV projections replicate once TP exceeds the KV heads; MLA's down-projections and the norms
stay whole on every rank; pipeline parallelism (PP) splits the layers; data parallelism (DP)
replicates; ``--enable-expert-parallel`` spreads whole routed experts over ``TP x DP`` GPUs
instead of slicing each expert over TP.
"""

from __future__ import annotations

from dataclasses import dataclass

from ponder.deploy.arch import Architecture
from ponder.deploy.kv import kv_heads_per_gpu
from ponder.deploy.params import LayerParams
from ponder.errors import LayoutError


@dataclass(frozen=True)
class Layout:
    """How many GPUs split each dimension; ``ep`` turns on vLLM's expert parallelism."""

    tp: int = 1
    pp: int = 1
    dp: int = 1
    ep: bool = False

    @property
    def world_size(self) -> int:
        return self.tp * self.pp * self.dp

    @property
    def ep_size(self) -> int:
        return self.tp * self.dp if self.ep else 1

    def describe(self) -> str:
        text = f"TP={self.tp} PP={self.pp} DP={self.dp}"
        return text + (f" EP={self.ep_size}" if self.ep else "")


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def validate_layout(arch: Architecture, layout: Layout) -> None:
    """Raise :class:`LayoutError` when vLLM would refuse ``layout`` for ``arch``."""
    for label, size in (("tensor", layout.tp), ("pipeline", layout.pp), ("data", layout.dp)):
        if size < 1:
            raise LayoutError(f"{label} parallel size must be at least 1, got {size}")
    heads, kv = arch.attention.num_heads, arch.attention.num_kv_heads
    if heads % layout.tp:
        raise LayoutError(
            f"tensor parallel size {layout.tp} does not divide the {heads} attention heads of "
            f"{arch.name}; use one of {_divisors(heads)}"
        )
    if not arch.attention.is_mla and (kv % layout.tp if layout.tp <= kv else layout.tp % kv):
        raise LayoutError(
            f"tensor parallel size {layout.tp} and the {kv} KV heads of {arch.name} must divide "
            f"one another; use a TP size that divides {kv} or is a multiple of it"
        )
    if layout.pp > arch.num_layers:
        raise LayoutError(
            f"pipeline parallel size {layout.pp} exceeds the {arch.num_layers} layers of "
            f"{arch.name}; use at most {arch.num_layers} stages"
        )
    if layout.ep and arch.moe is None:
        raise LayoutError(f"{arch.name} is dense: expert parallelism needs a MoE model; drop it")
    if layout.ep and arch.moe is not None and layout.ep_size > arch.moe.num_experts:
        raise LayoutError(
            f"expert parallel size {layout.ep_size} (TP x DP) exceeds the {arch.moe.num_experts} "
            f"experts of {arch.name}; use fewer GPUs per expert group or drop expert parallelism"
        )


def stage_layers(num_layers: int, pp: int) -> list[int]:
    """Layers per pipeline stage; leftovers go to middle stages first, sparing the last one
    (it also holds the output head), as vLLM does."""
    parts = [num_layers // pp] * pp
    for i in range(num_layers % pp):
        parts[-(i + 2) if pp > 1 else 0] += 1
    return parts


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def layer_params_per_gpu(arch: Architecture, layer: LayerParams, layout: Layout) -> float:
    """Parameters of one layer that a single GPU holds under ``layout``."""
    tp = layout.tp
    a = arch.attention
    if a.is_mla:
        kv = layer.kv_proj / tp
    else:
        kv = layer.kv_proj * kv_heads_per_gpu(arch, tp) / a.num_kv_heads
    held = (layer.q_proj + layer.o_proj) / tp + kv + layer.attn_replicated + layer.norms
    held += (layer.dense_mlp + layer.shared_experts) / tp + layer.router
    if layer.num_experts:
        if layout.ep:
            held += _ceil_div(layer.num_experts, layout.ep_size) * layer.expert
        else:
            held += layer.routed_experts / tp
    return held


@dataclass(frozen=True)
class StageParams:
    """Parameters one GPU of a pipeline stage holds, split into layers and embeddings."""

    stage: int
    layers: int
    layer_params: float
    embedding_params: float


def params_per_gpu(arch: Architecture, layout: Layout) -> list[StageParams]:
    """Per pipeline stage, the parameters one of its GPUs holds."""
    validate_layout(arch, layout)
    breakdown = arch.params
    counts = stage_layers(arch.num_layers, layout.pp)
    stages, start = [], 0
    for stage, n in enumerate(counts):
        held = sum(
            layer_params_per_gpu(arch, x, layout) for x in breakdown.layers[start : start + n]
        )
        emb = 0.0
        if stage == 0:
            emb += breakdown.embedding / layout.tp
        if stage == layout.pp - 1:
            head = breakdown.lm_head or (breakdown.embedding if layout.pp > 1 else 0)
            emb += (head + breakdown.final_norm * layout.tp) / layout.tp
        stages.append(StageParams(stage, n, held, emb))
        start += n
    return stages


def candidate_layouts(arch: Architecture, count: int) -> list[Layout]:
    """Every valid layout that uses exactly ``count`` GPUs."""
    found = []
    for tp in _divisors(count):
        for pp in _divisors(count // tp):
            dp = count // (tp * pp)
            for ep in (False, True) if arch.moe is not None else (False,):
                if ep and tp * dp == 1:
                    continue
                layout = Layout(tp, pp, dp, ep)
                try:
                    validate_layout(arch, layout)
                except LayoutError:
                    continue
                found.append(layout)
    return found
