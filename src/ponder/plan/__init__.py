"""Serving planner: Hugging Face config -> parameters, weight and KV memory, parallel layout,
the ``vllm serve`` command, and the long-context-vs-RAG and model-size advisors.

    >>> from ponder.plan import load_architecture, kv_bytes_per_token
    >>> arch = load_architecture("llama-2-70b")
    >>> kv_bytes_per_token(arch, "fp16")  # 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes
    327680
"""

from ponder.errors import (
    ArchitectureError,
    DoesNotFitError,
    LayoutError,
    PlanError,
    UnknownDtypeError,
    UnknownGPUError,
    UnknownPlanModelError,
)
from ponder.plan.arch import Architecture, Attention, MoE
from ponder.plan.capacity import MemoryPlan, plan_memory
from ponder.plan.catalog import CatalogEntry, Published, catalog, find_model, model_names
from ponder.plan.config import architecture_from_config, load_architecture
from ponder.plan.dtypes import WeightFormat, kv_dtype_bytes, weight_format
from ponder.plan.gpus import GPU, GPUS, find_gpu, gpu_names
from ponder.plan.kv import kv_bytes_for_context, kv_bytes_per_token, kv_bytes_per_token_per_gpu
from ponder.plan.memory import MemoryAssumptions, StageMemory, per_gpu_memory, weight_bytes
from ponder.plan.parallel import Layout, validate_layout
from ponder.plan.params import ParamBreakdown, count_params
from ponder.plan.rag import RagAdvice, RagOption, advise_rag
from ponder.plan.serve import ServePlan, plan_serve
from ponder.plan.size import SizeAdvice, SizeCandidate, advise_size
from ponder.plan.summary import kv_summary, params_summary
from ponder.plan.units import parse_tokens

__all__ = [
    "GPU",
    "GPUS",
    "Architecture",
    "ArchitectureError",
    "Attention",
    "CatalogEntry",
    "DoesNotFitError",
    "Layout",
    "LayoutError",
    "MemoryAssumptions",
    "MemoryPlan",
    "MoE",
    "ParamBreakdown",
    "PlanError",
    "Published",
    "RagAdvice",
    "RagOption",
    "ServePlan",
    "SizeAdvice",
    "SizeCandidate",
    "StageMemory",
    "UnknownDtypeError",
    "UnknownGPUError",
    "UnknownPlanModelError",
    "WeightFormat",
    "advise_rag",
    "advise_size",
    "architecture_from_config",
    "catalog",
    "count_params",
    "find_gpu",
    "find_model",
    "gpu_names",
    "kv_bytes_for_context",
    "kv_bytes_per_token",
    "kv_bytes_per_token_per_gpu",
    "kv_dtype_bytes",
    "kv_summary",
    "load_architecture",
    "model_names",
    "params_summary",
    "parse_tokens",
    "per_gpu_memory",
    "plan_memory",
    "plan_serve",
    "validate_layout",
    "weight_bytes",
    "weight_format",
]
