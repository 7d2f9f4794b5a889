"""Per-GPU memory under a layout: weights, KV cache, activations, runtime overhead.

vLLM's budget is ``gpu_memory_utilization x GPU memory``. From it come the weights, the
peak activations of its profiling run and non-torch memory (CUDA context, CUDA graphs, NCCL
buffers); whatever is left becomes KV-cache blocks. Weights and KV are exact for a known
architecture; activations and overheads are estimates whose inputs are in
:class:`MemoryAssumptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ponder.deploy.arch import Architecture
from ponder.deploy.dtypes import WeightFormat, kv_dtype_name, weight_format
from ponder.deploy.gpus import GPU
from ponder.deploy.kv import kv_bytes_per_token_per_gpu, kv_heads_per_gpu
from ponder.deploy.parallel import Layout, StageParams, params_per_gpu
from ponder.deploy.units import GIB


class MemoryAssumptions(BaseModel):
    """The numbers the planner assumes where the architecture does not decide them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gpu_memory_utilization: float = Field(
        0.9, gt=0, le=1, description="fraction of GPU memory vLLM may use (vLLM's default 0.9)"
    )
    max_num_batched_tokens: int = Field(
        8192, ge=1, description="tokens in one forward pass of vLLM's profiling run"
    )
    max_num_seqs: int = Field(256, ge=1, description="sequences sampled at once (fp32 logits)")
    block_size: int = Field(16, ge=1, description="tokens per KV-cache block (vLLM's default)")
    cuda_context_gib: float = Field(0.5, ge=0, description="CUDA context and cuBLAS workspace")
    cuda_graph_gib: float = Field(1.0, ge=0, description="captured CUDA graphs (GPU only)")
    nccl_gib: float = Field(0.25, ge=0, description="NCCL buffers when more than one GPU")
    activation_bytes: int = Field(2, ge=1, description="bytes per activation element (bf16)")


@dataclass(frozen=True)
class StageMemory:
    """Bytes on one GPU of a pipeline stage (the layout's GPUs in a stage are alike)."""

    stage: int
    layers: int
    capacity: int
    budget: int
    weights: int
    activations: int
    overhead: int
    kv_bytes_per_token: int
    block_size: int

    @property
    def kv_pool(self) -> int:
        """Bytes left for KV-cache blocks (negative when the rest does not fit)."""
        return self.budget - self.weights - self.activations - self.overhead

    @property
    def kv_tokens(self) -> int:
        """Tokens of KV cache that fit, whole blocks only."""
        if self.kv_pool <= 0 or self.kv_bytes_per_token == 0:
            return 0
        return self.kv_pool // (self.kv_bytes_per_token * self.block_size) * self.block_size


def _embedding_format(fmt: WeightFormat) -> WeightFormat:
    """vLLM keeps embeddings and the head in 16 bit for fp8/int/AWQ/GPTQ; GGUF quantises them."""
    if fmt.bits_per_weight < 16 and not fmt.name.startswith("q"):
        return weight_format("bf16")
    return fmt


def weight_bytes(arch: Architecture, dtype: str | None = None) -> int:
    """Bytes of all weights at a dtype or quantisation (the checkpoint's own by default)."""
    fmt = weight_format(dtype or arch.weight_dtype)
    p = arch.params
    emb = p.embedding + p.lm_head
    rest = p.total - emb
    return int(rest * fmt.bytes_per_weight + emb * _embedding_format(fmt).bytes_per_weight)


def activation_bytes(arch: Architecture, layout: Layout, a: MemoryAssumptions, last: bool) -> int:
    """Peak activations of a profiling pass (estimate): residual stream, QKV, MLP, logits."""
    tp, attn = layout.tp, arch.attention
    qkv = attn.num_heads * attn.head_dim / tp + 2 * kv_heads_per_gpu(arch, tp) * attn.head_dim
    mlp = arch.intermediate_size / tp
    if arch.moe is not None:
        routed = arch.moe.experts_per_token * arch.moe.expert_intermediate
        spread = layout.ep_size if layout.ep else tp
        mlp = max(mlp, routed / spread + arch.moe.shared_intermediate / tp)
    per_token = 4 * arch.hidden_size + qkv + 2 * mlp
    total = a.max_num_batched_tokens * per_token * a.activation_bytes
    if last:
        total += a.max_num_seqs * arch.vocab_size * 4
    return int(total)


def overhead_bytes(gpu: GPU, layout: Layout, a: MemoryAssumptions) -> int:
    """Non-torch memory: CUDA context, CUDA graphs and, with several GPUs, NCCL buffers."""
    gib = a.cuda_context_gib
    if gpu.kind == "gpu":
        gib += a.cuda_graph_gib + (a.nccl_gib if layout.world_size > 1 else 0)
    return int(gib * GIB)


def stage_memory(
    arch: Architecture,
    gpu: GPU,
    layout: Layout,
    stage: StageParams,
    fmt: WeightFormat,
    kv_dtype: str,
    a: MemoryAssumptions,
) -> StageMemory:
    """Memory of one GPU in ``stage``."""
    last = stage.stage == layout.pp - 1
    weights = (
        stage.layer_params * fmt.bytes_per_weight
        + stage.embedding_params * _embedding_format(fmt).bytes_per_weight
    )
    return StageMemory(
        stage=stage.stage,
        layers=stage.layers,
        capacity=gpu.memory_bytes,
        budget=int(gpu.memory_bytes * a.gpu_memory_utilization),
        weights=int(weights),
        activations=activation_bytes(arch, layout, a, last),
        overhead=overhead_bytes(gpu, layout, a),
        kv_bytes_per_token=kv_bytes_per_token_per_gpu(arch, kv_dtype, layout.tp, stage.layers),
        block_size=a.block_size,
    )


def per_gpu_memory(
    arch: Architecture,
    gpu: GPU,
    layout: Layout,
    weight_dtype: str | None = None,
    kv_dtype: str = "auto",
    assumptions: MemoryAssumptions | None = None,
) -> list[StageMemory]:
    """Memory of one GPU per pipeline stage under ``layout``."""
    a = assumptions or MemoryAssumptions()
    fmt = weight_format(weight_dtype or arch.weight_dtype)
    kv = kv_dtype_name(kv_dtype)
    return [stage_memory(arch, gpu, layout, s, fmt, kv, a) for s in params_per_gpu(arch, layout)]
