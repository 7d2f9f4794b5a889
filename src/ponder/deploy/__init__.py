"""Serving planner (``ponder plan``; the package was ``ponder.plan``): Hugging Face
config -> parameters, weight and KV memory, parallel layout, the ``vllm serve``
command, and the long-context-vs-RAG and model-size advisors.

    >>> from ponder.deploy import load_architecture, kv_bytes_per_token
    >>> arch = load_architecture("llama-2-70b")
    >>> kv_bytes_per_token(arch, "fp16")  # 80 layers x 8 KV heads x 128 x 2 (K, V) x 2 bytes
    327680
"""

from ponder.deploy.arch import Architecture, Attention, MoE
from ponder.deploy.capacity import MemoryPlan, plan_memory
from ponder.deploy.catalog import CatalogEntry, Published, catalog, find_model, model_names
from ponder.deploy.config import architecture_from_config, load_architecture
from ponder.deploy.dtypes import WeightFormat, kv_dtype_bytes, weight_format
from ponder.deploy.gpus import GPU, GPUS, find_gpu, gpu_names
from ponder.deploy.kv import kv_bytes_for_context, kv_bytes_per_token, kv_bytes_per_token_per_gpu
from ponder.deploy.memory import MemoryAssumptions, StageMemory, per_gpu_memory, weight_bytes
from ponder.deploy.parallel import Layout, validate_layout
from ponder.deploy.params import ParamBreakdown, count_params
from ponder.deploy.rag import RagAdvice, RagOption, advise_rag
from ponder.deploy.serve import ServePlan, plan_serve
from ponder.deploy.size import SizeAdvice, SizeCandidate, advise_size
from ponder.deploy.summary import kv_summary, params_summary
from ponder.deploy.units import parse_tokens
from ponder.errors import (
    ArchitectureError,
    DoesNotFitError,
    LayoutError,
    PlanError,
    UnknownDtypeError,
    UnknownGPUError,
    UnknownPlanModelError,
)

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
