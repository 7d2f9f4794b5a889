"""What the ``ponder plan`` commands share: one-line errors, JSON or tables, plots, and
the common options."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console, RenderableType

from ponder.deploy import Architecture, parse_tokens
from ponder.errors import PonderError

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    """Turn the planner's errors into one line on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PonderError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def emit(data: dict[str, Any], renderable: Callable[[], RenderableType], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        Console().print(renderable())


def write_plot(path: str | None, draw: Callable[[str], object], as_json: bool) -> None:
    if path:
        draw(path)
        if not as_json:
            click.echo(f"plot written to {path}", err=True)


def context_tokens(arch: Architecture, text: str | None) -> int:
    """The requested context, or 8192 capped by the model's limit."""
    if text is not None:
        return parse_tokens(text)
    return min(8192, arch.max_context or 8192)


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
PLOT_OPTION = click.option(
    "--plot", "plot_path", type=click.Path(dir_okay=False), help="Write a PNG plot to this file."
)
CONTEXT_OPTION = click.option(
    "--context",
    default=None,
    help="Tokens per request: 32768, 32k (=32,000) or 32K (=32,768); "
    "default 8192, or the model's limit if smaller.",
)
KV_DTYPE_OPTION = click.option(
    "--kv-dtype",
    default="auto",
    show_default=True,
    help="KV-cache dtype: auto (model dtype), fp16, bf16, fp8.",
)
_DEPLOY = (
    CONTEXT_OPTION,
    click.option(
        "--dtype",
        default=None,
        help="Weight dtype or quantisation (bf16, fp8, awq, q4_k_m...); default: the checkpoint's.",
    ),
    KV_DTYPE_OPTION,
    click.option(
        "--gpu-memory-utilization",
        "util",
        default=0.9,
        show_default=True,
        type=click.FloatRange(0.05, 1.0),
        help="vLLM's memory fraction.",
    ),
    JSON_OPTION,
    PLOT_OPTION,
)


def deploy_options(func: F) -> F:
    """Context, weight and KV dtypes, memory utilisation, --json and --plot."""
    for option in reversed(_DEPLOY):
        func = option(func)
    return func
