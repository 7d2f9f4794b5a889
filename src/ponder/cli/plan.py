"""``ponder plan``: parameters, memory, KV cache, serve layout, and the RAG and size advisors.

Thin: parse options, call :mod:`ponder.deploy`, print a rich table or JSON.
"""

from __future__ import annotations

import click

from ponder.cli.plan_advice import rag_cmd, size_cmd
from ponder.cli.plan_catalog import gpus_cmd, models_cmd
from ponder.cli.plan_common import (
    CONTEXT_OPTION,
    JSON_OPTION,
    KV_DTYPE_OPTION,
    PLOT_OPTION,
    context_tokens,
    deploy_options,
    emit,
    friendly_errors,
    write_plot,
)
from ponder.deploy import (
    Layout,
    MemoryAssumptions,
    find_gpu,
    kv_summary,
    load_architecture,
    params_summary,
    plan_memory,
    plan_serve,
)


@click.group(name="plan")
def plan() -> None:
    """Plan serving: parameters, memory, KV cache, GPU layout; long context vs RAG; model size."""


plan.add_command(models_cmd)
plan.add_command(gpus_cmd)
plan.add_command(rag_cmd)
plan.add_command(size_cmd)


@plan.command("params")
@click.argument("model")
@JSON_OPTION
@friendly_errors
def params_cmd(model: str, as_json: bool) -> None:
    """Total and active parameters of MODEL (catalog name, config.json or its folder)."""
    from ponder.deploy.render import render_params

    summary = params_summary(load_architecture(model))
    emit(summary, lambda: render_params(summary), as_json)


@plan.command("kv")
@click.argument("model")
@CONTEXT_OPTION
@KV_DTYPE_OPTION
@click.option(
    "--kv-heads",
    type=int,
    default=None,
    help="Override the KV heads (e.g. the attention heads, to see full MHA).",
)
@JSON_OPTION
@PLOT_OPTION
@friendly_errors
def kv_cmd(
    model: str,
    context: str | None,
    kv_dtype: str,
    kv_heads: int | None,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """KV-cache bytes per token and per request of MODEL."""
    from ponder.deploy.plot import plot_kv
    from ponder.deploy.render import render_kv

    arch = load_architecture(model)
    if kv_heads is not None:
        arch = arch.with_kv_heads(kv_heads)
    tokens = context_tokens(arch, context)
    if arch.max_context and tokens > arch.max_context:
        click.echo(
            f"warning: context {tokens:,} exceeds {arch.name}'s max_position_embeddings "
            f"({arch.max_context:,}); vLLM would refuse it, the figures assume it could",
            err=True,
        )
    summary = kv_summary(arch, tokens, kv_dtype)
    emit(summary, lambda: render_kv(summary), as_json)
    write_plot(plot_path, lambda p: plot_kv(arch, tokens, kv_dtype, p), as_json)


@plan.command("memory")
@click.argument("model")
@click.option("--gpu", default="H100-80GB", show_default=True, help="GPU name.")
@click.option("--tp", default=1, show_default=True, help="Tensor parallel size.")
@click.option("--pp", default=1, show_default=True, help="Pipeline parallel size.")
@click.option("--dp", default=1, show_default=True, help="Data parallel size.")
@click.option("--ep", is_flag=True, help="Enable expert parallelism (MoE only).")
@deploy_options
@friendly_errors
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
    from ponder.deploy.plot import plot_memory
    from ponder.deploy.render import render_memory

    arch = load_architecture(model)
    result = plan_memory(
        arch,
        find_gpu(gpu),
        Layout(tp, pp, dp, ep),
        context_tokens(arch, context),
        dtype,
        kv_dtype,
        MemoryAssumptions(gpu_memory_utilization=util),
    )
    emit(result.to_dict(), lambda: render_memory(result), as_json)
    write_plot(plot_path, lambda p: plot_memory(result, p), as_json)


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
@deploy_options
@friendly_errors
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
    from ponder.deploy.plot import plot_memory
    from ponder.deploy.render import render_serve

    arch = load_architecture(model)
    result = plan_serve(
        arch,
        find_gpu(gpu),
        count,
        context_tokens(arch, context),
        dtype,
        kv_dtype,
        concurrency,
        MemoryAssumptions(gpu_memory_utilization=util),
    )
    emit(result.to_dict(), lambda: render_serve(result), as_json)
    write_plot(plot_path, lambda p: plot_memory(result.memory, p), as_json)
