"""``ponder plan rag`` and ``ponder plan size``: the long-context-vs-RAG and model-size
advisors."""

from __future__ import annotations

import click

from ponder.cli.plan_common import (
    JSON_OPTION,
    KV_DTYPE_OPTION,
    PLOT_OPTION,
    emit,
    friendly_errors,
    write_plot,
)
from ponder.deploy import advise_rag, advise_size, find_gpu, load_architecture, parse_tokens


@click.command("rag")
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
@KV_DTYPE_OPTION
@click.option("--price-per-mtok", type=float, default=None, help="Input price, $ per 1M tokens.")
@JSON_OPTION
@friendly_errors
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
    from ponder.deploy.render import render_rag

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
    emit(advice.to_dict(), lambda: render_rag(advice), as_json)


@click.command("size")
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
@JSON_OPTION
@PLOT_OPTION
@friendly_errors
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
    from ponder.deploy.plot import plot_size
    from ponder.deploy.render import render_size

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
    emit(advice.to_dict(), lambda: render_size(advice), as_json)
    write_plot(plot_path, lambda p: plot_size(advice, p), as_json)
