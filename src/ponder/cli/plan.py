"""``ponder plan``: parameters, memory, KV cache, serve layout, and the RAG and size advisors.

Thin: parse options, call :mod:`ponder.plan`, print a rich table or JSON.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console, RenderableType

from ponder.cli.plan_catalog import gpus_cmd, models_cmd
from ponder.errors import PonderError
from ponder.plan import (
    Architecture,
    Layout,
    MemoryAssumptions,
    advise_rag,
    advise_size,
    find_gpu,
    kv_summary,
    load_architecture,
    params_summary,
    parse_tokens,
    plan_memory,
    plan_serve,
)

F = TypeVar("F", bound=Callable[..., Any])


def _friendly(func: F) -> F:
    """Turn the planner's errors into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PonderError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def _emit(data: dict[str, Any], renderable: Callable[[], RenderableType], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        Console().print(renderable())


def _plot(path: str | None, draw: Callable[[str], object], as_json: bool) -> None:
    if path:
        draw(path)
        if not as_json:
            click.echo(f"plot written to {path}", err=True)


def _context(arch: Architecture, text: str | None) -> int:
    """The requested context, or 8192 capped by the model's limit."""
    if text is not None:
        return parse_tokens(text)
    return min(8192, arch.max_context or 8192)


_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
_PLOT = click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG plot to this file."
)
_CONTEXT = click.option(
    "--context",
    default=None,
    help="Tokens per request: 32768, 32k (=32,000) or 32K (=32,768); "
    "default 8192, or the model's limit if smaller.",
)
_KV_DTYPE = click.option(
    "--kv-dtype",
    default="auto",
    show_default=True,
    help="KV-cache dtype: auto (model dtype), fp16, bf16, fp8.",
)
_DEPLOY = (
    _CONTEXT,
    click.option(
        "--dtype",
        default=None,
        help="Weight dtype or quantisation (bf16, fp8, awq, q4_k_m...); default: the checkpoint's.",
    ),
    _KV_DTYPE,
    click.option(
        "--gpu-memory-utilization",
        "util",
        default=0.9,
        show_default=True,
        type=click.FloatRange(0.05, 1.0),
        help="vLLM's memory fraction.",
    ),
    _JSON,
    _PLOT,
)


def _deploy_options(func: F) -> F:
    """Context, weight and KV dtypes, memory utilisation, --json and --plot."""
    for option in reversed(_DEPLOY):
        func = option(func)
    return func


@click.group(name="plan")
def plan() -> None:
    """Plan serving: parameters, memory, KV cache, GPU layout; long context vs RAG; model size."""


plan.add_command(models_cmd)
plan.add_command(gpus_cmd)


@plan.command("params")
@click.argument("model")
@_JSON
@_friendly
def params_cmd(model: str, as_json: bool) -> None:
    """Total and active parameters of MODEL (catalog name, config.json or its folder)."""
    from ponder.plan.render import render_params

    summary = params_summary(load_architecture(model))
    _emit(summary, lambda: render_params(summary), as_json)


@plan.command("kv")
@click.argument("model")
@_CONTEXT
@_KV_DTYPE
@click.option(
    "--kv-heads",
    type=int,
    default=None,
    help="Override the KV heads (e.g. the attention heads, to see full MHA).",
)
@_JSON
@_PLOT
@_friendly
def kv_cmd(
    model: str,
    context: str | None,
    kv_dtype: str,
    kv_heads: int | None,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """KV-cache bytes per token and per request of MODEL."""
    from ponder.plan.plot import plot_kv
    from ponder.plan.render import render_kv

    arch = load_architecture(model)
    if kv_heads is not None:
        arch = arch.with_kv_heads(kv_heads)
    tokens = _context(arch, context)
    if arch.max_context and tokens > arch.max_context:
        click.echo(
            f"warning: context {tokens:,} exceeds {arch.name}'s max_position_embeddings "
            f"({arch.max_context:,}); vLLM would refuse it, the figures assume it could",
            err=True,
        )
    summary = kv_summary(arch, tokens, kv_dtype)
    _emit(summary, lambda: render_kv(summary), as_json)
    _plot(plot_path, lambda p: plot_kv(arch, tokens, kv_dtype, p), as_json)


@plan.command("memory")
@click.argument("model")
@click.option("--gpu", default="H100-80GB", show_default=True, help="GPU name.")
@click.option("--tp", default=1, show_default=True, help="Tensor parallel size.")
@click.option("--pp", default=1, show_default=True, help="Pipeline parallel size.")
@click.option("--dp", default=1, show_default=True, help="Data parallel size.")
@click.option("--ep", is_flag=True, help="Enable expert parallelism (MoE only).")
@_deploy_options
@_friendly
def memory_cmd(
    model: str,
    gpu: str,
    tp: int,
    pp: int,
    dp: int,
    ep: bool,
    context: str | None,
    dtype: str | None,
    kv_dtype: str,
    util: float,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Per-GPU memory of MODEL under a given layout, and the requests it holds."""
    from ponder.plan.plot import plot_memory
    from ponder.plan.render import render_memory

    arch = load_architecture(model)
    result = plan_memory(
        arch,
        find_gpu(gpu),
        Layout(tp, pp, dp, ep),
        _context(arch, context),
        dtype,
        kv_dtype,
        MemoryAssumptions(gpu_memory_utilization=util),
    )
    _emit(result.to_dict(), lambda: render_memory(result), as_json)
    _plot(plot_path, lambda p: plot_memory(result, p), as_json)


@plan.command("serve")
@click.argument("model")
@click.option("--gpu", required=True, help="GPU name, e.g. H100-80GB.")
@click.option("--count", default=1, show_default=True, help="Number of GPUs.")
@click.option(
    "--concurrency",
    default=16,
    show_default=True,
    help="Full-context requests you want to serve at once.",
)
@_deploy_options
@_friendly
def serve_cmd(
    model: str,
    gpu: str,
    count: int,
    concurrency: int,
    context: str | None,
    dtype: str | None,
    kv_dtype: str,
    util: float,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Recommend a layout for MODEL on COUNT GPUs and print the vllm serve command."""
    from ponder.plan.plot import plot_memory
    from ponder.plan.render import render_serve

    arch = load_architecture(model)
    result = plan_serve(
        arch,
        find_gpu(gpu),
        count,
        _context(arch, context),
        dtype,
        kv_dtype,
        concurrency,
        MemoryAssumptions(gpu_memory_utilization=util),
    )
    _emit(result.to_dict(), lambda: render_serve(result), as_json)
    _plot(plot_path, lambda p: plot_memory(result.memory, p), as_json)


@plan.command("rag")
@click.option("--doc-tokens", required=True, help="Size of the document collection in tokens.")
@click.option(
    "--precise/--no-precise",
    default=False,
    show_default=True,
    help="Does the task need precise retrieval of specific passages?",
)
@click.option("--model", default="llama-3.1-70b", show_default=True, help="Model to price.")
@click.option("--threshold", default="100k", show_default=True, help="Long-context limit.")
@click.option("--chunk-tokens", default=512, show_default=True, help="Tokens per chunk.")
@click.option("--top-k", default=8, show_default=True, help="Chunks retrieved per query.")
@click.option("--summary-ratio", default=0.1, show_default=True, help="Summary/document size.")
@_KV_DTYPE
@click.option("--price-per-mtok", type=float, default=None, help="Input price, $ per 1M tokens.")
@_JSON
@_friendly
def rag_cmd(
    doc_tokens: str,
    precise: bool,
    model: str,
    threshold: str,
    chunk_tokens: int,
    top_k: int,
    summary_ratio: float,
    kv_dtype: str,
    price_per_mtok: float | None,
    as_json: bool,
) -> None:
    """Long context or RAG for a document collection, with memory and tokens per query."""
    from ponder.plan.render import render_rag

    advice = advise_rag(
        load_architecture(model),
        parse_tokens(doc_tokens),
        precise,
        threshold=parse_tokens(threshold),
        chunk_tokens=chunk_tokens,
        top_k=top_k,
        summary_ratio=summary_ratio,
        kv_dtype=kv_dtype,
        price_per_mtok=price_per_mtok,
    )
    _emit(advice.to_dict(), lambda: render_rag(advice), as_json)


@plan.command("size")
@click.option("--deployment", type=click.Choice(["edge", "mobile", "server"]), required=True)
@click.option(
    "--complex/--simple",
    "complex_tasks",
    default=True,
    show_default=True,
    help="Complex or simpler tasks (server only).",
)
@click.option("--gpu", default=None, help="GPU name; with --count gives the memory.")
@click.option("--count", default=1, show_default=True, help="Number of GPUs.")
@click.option("--memory-gib", type=float, default=None, help="Usable memory instead of --gpu.")
@click.option(
    "--context",
    default="4096",
    show_default=True,
    help="Tokens per request: 4096, 4k (=4,000) or 4K (=4,096).",
)
@click.option("--dtype", default=None, help="Weight format; default q4_k_m on edge, else bf16.")
@click.option(
    "--gpu-memory-utilization",
    "util",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0.05, 1.0),
    help="Usable fraction of GPU memory.",
)
@_JSON
@_PLOT
@_friendly
def size_cmd(
    deployment: str,
    complex_tasks: bool,
    gpu: str | None,
    count: int,
    memory_gib: float | None,
    context: str,
    dtype: str | None,
    util: float,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Which model size for a deployment, checked against the hardware's memory."""
    from ponder.plan.plot import plot_size
    from ponder.plan.render import render_size

    if gpu is None and memory_gib is None:
        raise click.ClickException(
            "say what the model must fit: --gpu NAME (with --count) or --memory-gib N"
        )
    if gpu is not None and memory_gib is not None:
        raise click.ClickException("pass either --gpu (with --count) or --memory-gib, not both")
    if gpu is not None:
        card = find_gpu(gpu)
        usable, label = int(card.memory_bytes * util * count), f"{count} x {card.name}"
    else:
        usable, label = int((memory_gib or 0) * 1024**3), f"{memory_gib:g} GiB of memory"
    advice = advise_size(
        deployment,
        complex_tasks,
        usable,
        weight_dtype=dtype,
        context=parse_tokens(context),
        hardware=label,
    )
    _emit(advice.to_dict(), lambda: render_size(advice), as_json)
    _plot(plot_path, lambda p: plot_size(advice, p), as_json)
