"""Which model size? The lecture's tree, checked against the user's hardware memory.

Tree: edge or mobile -> a 1-3B SLM; server with complex tasks -> 7B-70B+; server with simpler
tasks -> a fine-tuned 3-8B SLM (cost-efficient). Each catalog model in the range is checked:
weights at the chosen format plus the KV cache of one request at the context plus runtime
overhead must fit the usable memory.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from ponder.deploy.catalog import catalog
from ponder.deploy.config import load_architecture
from ponder.deploy.kv import kv_bytes_for_context
from ponder.deploy.memory import weight_bytes
from ponder.deploy.units import GIB, gib
from ponder.errors import PlanError

Deployment = Literal["edge", "mobile", "server"]

_RANGES: dict[str, tuple[float, float, str]] = {
    "edge": (0.9e9, 3.5e9, "an SLM of 1-3B parameters"),
    "complex": (6.5e9, float("inf"), "a large model of 7B-70B+ parameters"),
    "simple": (2.9e9, 8.5e9, "a fine-tuned SLM of 3-8B parameters (cost-efficient)"),
}


@dataclass(frozen=True)
class SizeCandidate:
    name: str
    total_params: int
    active_params: int
    weight_bytes: int
    kv_bytes: int
    needed_bytes: int
    fits: bool


@dataclass(frozen=True)
class SizeAdvice:
    branch: str
    reasoning: list[str]
    candidates: list[SizeCandidate]
    usable_bytes: int
    weight_dtype: str
    recommended: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _branch(deployment: str, complex_tasks: bool) -> tuple[str, list[str]]:
    if deployment in ("edge", "mobile"):
        return "edge", [f"Deployment on {deployment}: {_RANGES['edge'][2]}."]
    if deployment != "server":
        raise PlanError(f"unknown deployment {deployment!r}; use edge, mobile or server")
    key = "complex" if complex_tasks else "simple"
    kind = "complex" if complex_tasks else "simpler"
    return key, [f"Server deployment with {kind} tasks: {_RANGES[key][2]}."]


def _candidate(
    name: str, dtype: str | None, context: int, kv_dtype: str, overhead: int, usable: int
) -> SizeCandidate:
    arch = load_architecture(name)
    weights = weight_bytes(arch, dtype)
    kv = kv_bytes_for_context(arch, min(context, arch.max_context or context), kv_dtype)
    need = weights + kv + overhead
    return SizeCandidate(
        name, arch.total_params, arch.active_params, weights, kv, need, need <= usable
    )


def advise_size(
    deployment: Deployment | str,
    complex_tasks: bool,
    usable_bytes: int,
    *,
    weight_dtype: str | None = None,
    context: int = 4096,
    kv_dtype: str = "auto",
    overhead_bytes: int = int(1.75 * GIB),
    hardware: str = "the hardware",
) -> SizeAdvice:
    """Walk the model-size tree and check each catalog model in range against memory."""
    if usable_bytes <= 0:
        raise PlanError("usable memory must be positive; pass --gpu with --count, or --memory-gib")
    branch, steps = _branch(deployment, complex_tasks)
    dtype = weight_dtype or ("q4_k_m" if branch == "edge" else None)
    low, high, _ = _RANGES[branch]
    names = [e.name for e in catalog()]
    cands = [_candidate(n, dtype, context, kv_dtype, overhead_bytes, usable_bytes) for n in names]
    cands = sorted(
        (c for c in cands if low <= c.total_params <= high), key=lambda c: c.total_params
    )
    fitting = [c for c in cands if c.fits]
    steps.append(
        f"{hardware} leaves {gib(usable_bytes):.1f} GiB; each model needs "
        f"{dtype or 'checkpoint-dtype'} weights + the "
        f"KV cache of one {context:,}-token request + {gib(overhead_bytes):.2f} GiB overhead."
    )
    if not fitting:
        steps.append(
            "No model in this range fits: quantise further (--dtype q4_k_m or awq), shorten the "
            "context, or add memory."
        )
        return SizeAdvice(branch, steps, cands, usable_bytes, dtype or "checkpoint", None)
    best = fitting[0] if branch == "simple" else fitting[-1]
    why = (
        "the smallest that fits, cheapest to fine-tune and serve"
        if branch == "simple"
        else ("the largest that fits")
    )
    steps.append(f"{len(fitting)} of {len(cands)} candidates fit; {best.name} is {why}.")
    return SizeAdvice(branch, steps, cands, usable_bytes, dtype or "checkpoint", best.name)
