"""``ponder ask``: answer one question and show what it cost and how it decided.

Without ``--strategy`` (and with the default model) it runs ``auto``'s quick plan
(``ponder.strategies.auto.QUICK_PLAN``): votes on the 0.5B local model, the 1.5B
one fetched and asked only when they split. With a ``--model`` of one's own, or
``--n``/``--early-stop``, it votes on that model (``sc``).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from click.core import ParameterSource
from rich.console import Console
from rich.table import Table

from ponder.backends import load_backend
from ponder.cli.common import (
    THREADS_HELP,
    echo_json,
    ensure_model,
    fetching_tiers,
    stderr,
    with_threads,
)
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL
from ponder.routing.explain import explain
from ponder.strategies import make_strategy
from ponder.strategies.auto import QUICK_PLAN, QUICK_TIERS, quick_spec
from ponder.strategies.base import solve_on
from ponder.strategies.tiers import Ladder
from ponder.types import Message, QuestionLike, Result, as_question


@click.command()
@click.argument("question")
@click.option(
    "--model",
    "-m",
    default=f"embedded:{DEFAULT_MODEL}",
    show_default=True,
    help="backend spec: embedded:NAME|PATH.gguf, openai:URL#MODEL, scripted:FILE",
)
@click.option(
    "--strategy",
    "-s",
    default=None,
    help="direct, cot, sc, bon or auto, with options: sc:n=16,stop=esc (default: cheap "
    f"first, '{QUICK_PLAN}' over {' then '.join(QUICK_TIERS)}, the second fetched and "
    "asked only when the first's votes split; sc with --model, --n or --early-stop)",
)
@click.option("--n", "n", type=int, default=None, help="samples (sc, bon)")
@click.option("--temperature", "-t", type=float, default=None, help="sampling temperature")
@click.option("--max-tokens", type=int, default=None, help="completion budget per sample")
@click.option(
    "--early-stop",
    type=click.Choice(["fixed", "esc", "beta", "margin"]),
    default=None,
    help="self-consistency stopping rule",
)
@click.option(
    "--kind",
    type=click.Choice(["auto", "number", "choice", "text", "expr"]),
    default="auto",
    show_default=True,
    help="the kind of answer to extract and vote on",
)
@click.option("--system", default=None, help="a system prompt to send before the question")
@click.option("--threads", type=int, default=None, help=THREADS_HELP)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def ask(
    question: str,
    model: str,
    strategy: str | None,
    n: int | None,
    temperature: float | None,
    max_tokens: int | None,
    early_stop: str | None,
    kind: str,
    system: str | None,
    threads: int | None,
    as_json: bool,
) -> None:
    """Answer QUESTION with inference-time compute on a (small) model (- reads stdin)."""
    if question == "-":
        question = sys.stdin.read()
    if not question.strip():
        raise ConfigError("the question is empty: pass some text, e.g. ponder ask 'What is 2+2?'")
    if n is not None and n < 1:
        raise ConfigError(f"--n must be a positive integer, got {n}")
    overrides: dict[str, Any] = {"n": n, "temperature": temperature, "max_tokens": max_tokens}
    if early_stop:
        overrides["stop"] = early_stop
    if strategy is None:
        named = click.get_current_context().get_parameter_source("model")
        quick = named is ParameterSource.DEFAULT and n is None and early_stop is None
        strategy = quick_spec(threads) if quick else "sc"
        if quick:  # the quick plan's first tier answers first
            model = f"embedded:{QUICK_TIERS[0]}"
    solver = make_strategy(strategy, **overrides)
    prompt: QuestionLike = question.strip()
    if system is not None:
        prompt = [Message("system", system), Message("user", question.strip())]
    asked = as_question(prompt, kind)
    model = with_threads(model, threads)
    ensure_model(model)
    backend = load_backend(model)
    if as_json:
        result = asyncio.run(solve_on(fetching_tiers(solver), asked, Ladder.of(backend)))
        echo_json(result_json(result))
        return
    with stderr.status(f"thinking ({solver.name} on {backend.name})...") as spinner:
        solving = solve_on(fetching_tiers(solver, spinner), asked, Ladder.of(backend))
        result = asyncio.run(solving)
    render(result)


def result_json(result: Result) -> dict[str, Any]:
    data = result.to_dict(include_samples=False)
    data["explanation"] = explain(result.trace)
    data["samples"] = [
        {
            "answer": s.answer,
            "text": s.text,
            "completion_tokens": s.completion_tokens,
            "finish_reason": s.finish_reason,
        }
        for s in result.samples
    ]
    return data


def render(result: Result) -> None:
    out = Console()
    answer = result.answer if result.answer is not None else "(no answer extracted)"
    out.print(f"[bold]{answer}[/bold]")
    if result.text and result.text.strip() != str(result.answer):
        out.print(result.text.strip(), style="dim", markup=False)
    line = explain(result.trace)
    if line:
        out.print(line, markup=False, soft_wrap=True)
    if result.answer is None and len(result.samples) > 1:
        out.print(unanswered(result), style="yellow", markup=False)
    if result.votes:
        table = Table("answer", "votes", "share", title="votes", title_justify="left")
        total = sum(result.votes.values()) or 1.0
        for key, count in sorted(result.votes.items(), key=lambda kv: -kv[1])[:10]:
            table.add_row(key, f"{count:g}", f"{count / total:.0%}")
        out.print(table)
    if result.tied:
        out.print(
            f"tie between {', '.join(result.tied)}: settled by the higher mean log-probability",
            style="yellow",
            markup=False,
        )
    u, c = result.usage, result.cost
    out.print(
        f"strategy {result.strategy} on {result.model} | confidence {result.confidence:.2f} | "
        f"samples {u.samples} in {u.requests} request(s) | tokens {u.prompt_tokens} prompt + "
        f"{u.completion_tokens} completion | {u.wall_s:.2f}s | ${c.dollars:.6f} | "
        f"{c.flops:.3g} FLOPs"
    )


def unanswered(result: Result) -> str:
    """Why a sampled answer is missing: no sample yielded one, and how many were cut at
    their token limit (the usual cause on a small model)."""
    line = f"no answer in any of the {len(result.samples)} samples"
    cut = [s for s in result.samples if s.truncated]
    if cut:
        limit = max(s.completion_tokens for s in cut)
        line += f"; {len(cut)} stopped at the {limit}-token limit (--max-tokens)"
    return line
