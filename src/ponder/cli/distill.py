"""``ponder distill generate|train|export``: teacher -> rows -> fine-tuned student -> GGUF."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from ponder.cli.common import ensure_model, ensure_tiers, with_threads
from ponder.distill.data import FILTERS, RowOptions
from ponder.distill.export import TYPES
from ponder.errors import ConfigError

TEACHER = "embedded:qwen2.5-coder-0.5b"


@click.group(name="distill")
def distill_group() -> None:
    """Distil a teacher's verified answers into a small model, and serve it."""


@distill_group.command()
@click.option("--suite", default=None, help="built-in suite(s): arith,compare,count ...")
@click.option("--data", default=None, help="a JSONL dataset instead (gold answers optional)")
@click.option("-t", "--teacher", default=TEACHER, show_default=True, help="teacher backend spec")
@click.option(
    "-s", "--strategy", "strategies", multiple=True, default=("sample:n=8",), show_default=True,
    help="teacher strategy (repeatable); sample:n=N keeps every path",
)  # fmt: skip
@click.option("--out", required=True, help="the teacher's run directory (the eval store)")
@click.option("--to", "to", required=True, help="the rows file (JSONL) to write")
@click.option("--per-level", type=int, default=20, show_default=True)
@click.option("--levels", default=None, help="suite levels, e.g. 1,2,3,4")
@click.option("--seed", type=int, default=1, show_default=True, help="suite seed (train items)")
@click.option("--limit", type=int, default=None, help="at most N items (per level for suites)")
@click.option(
    "--filter", "filter_", type=click.Choice(FILTERS), default="auto",
    show_default=True, help="gold answer, self-consistency agreement, or none (auto: gold if any)",
)  # fmt: skip
@click.option("--min-agreement", type=float, default=0.5, show_default=True)
@click.option("--per-question", type=int, default=4, show_default=True, help="paths kept per item")
@click.option(
    "--dedup", type=float, default=0.9, show_default=True,
    help="drop a path this similar to one kept (1: exact repeats only)",
)  # fmt: skip
@click.option("--scorer", default=None, help="also require a scorer: calc, logprob, judge")
@click.option("--min-score", type=float, default=0.5, show_default=True)
@click.option(
    "--exclude", multiple=True,
    help="held-out data (JSONL items, a run directory or an export): its questions never "
    "become rows (matched by id and by text)",
)  # fmt: skip
@click.option("-c", "--concurrency", type=click.IntRange(1), default=2, show_default=True)
@click.option("--max-failures", type=click.IntRange(0), default=None)
@click.option("--threads", type=int, default=None, help="llama.cpp threads for the teacher")
@click.option("--rows-only", is_flag=True, help="build rows from what --out holds; no model call")
def generate(
    suite: str | None,
    data: str | None,
    teacher: str,
    strategies: tuple[str, ...],
    out: str,
    to: str,
    per_level: int,
    levels: str | None,
    seed: int,
    limit: int | None,
    filter_: str,
    min_agreement: float,
    per_question: int,
    dedup: float,
    scorer: str | None,
    min_score: float,
    exclude: tuple[str, ...],
    concurrency: int,
    max_failures: int | None,
    threads: int | None,
    rows_only: bool,
) -> None:
    """A teacher answers questions; its kept reasoning paths become SFT rows (resumable)."""
    from ponder.cli.runs import finish_run, watch_run
    from ponder.distill.generate import held_out_keys
    from ponder.eval.runner import check_specs
    from ponder.eval.session import open_run, select_items

    options = RowOptions(filter_, min_agreement, per_question, dedup, min_score)  # type: ignore[arg-type]
    held = held_out_keys(exclude)
    summary = tally = None
    if not rows_only:
        items = select_items(suite, data, limit, per_level, levels, seed, require_answer=False)
        specs = check_specs(strategies)
        model = with_threads(teacher, threads)
        ensure_tiers(specs)
        meta = {"suite": suite, "data": data, "seed": seed, "distill": True}
        with open_run(out, items, model, specs, meta, fetch=ensure_model) as job:
            summary, tally = watch_run(job, concurrency, max_failures)
    _write_rows(out, to, options, held, scorer, teacher)
    if tally is not None:
        finish_run(summary, tally, Path(out) / "records.jsonl", max_failures or 0)


def _write_rows(
    out: str, to: str, options: RowOptions, held: tuple[set[str], set[str]], scorer: str | None,
    teacher: str,
) -> None:  # fmt: skip
    from ponder.distill.generate import build_rows, write_rows
    from ponder.eval.store import open_store

    records = open_store(out).records()
    backend = judge = None
    if scorer is not None:
        from ponder.backends import load_backend
        from ponder.strategies.verifiers import make_scorer

        judge = make_scorer(scorer)
        backend = load_backend(teacher) if scorer == "judge" else None
    rows, seen = asyncio.run(build_rows(records, options, held, judge, backend))
    write_rows(rows, to)
    click.echo(
        f"{seen.rows} rows from {seen.questions} of {seen.items} items -> {to} "
        f"({seen.candidates} complete paths: {seen.rejected} rejected by the filter, "
        f"{seen.duplicates} near-duplicates, {seen.capped} over the cap; "
        f"{seen.excluded} held-out items skipped, {seen.failed} failed records)"
    )
    if not rows:
        raise ConfigError("no row was kept: check the filter, or the teacher's accuracy")


@distill_group.command()
@click.argument("rows", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, help="the training run's folder (resumable)")
@click.option("--base", default="smollm2-135m", show_default=True, help="name, .gguf or folder")
@click.option("--method", type=click.Choice(["lora", "full"]), default="lora", show_default=True)
@click.option("--epochs", type=int, default=2, show_default=True)
@click.option("--lr", type=float, default=None, help="peak learning rate (2e-4 LoRA, 2e-5 full)")
@click.option("--batch-rows", type=int, default=16, show_default=True, help="rows per step")
@click.option("--micro-tokens", type=int, default=2048, show_default=True)
@click.option("--max-length", type=int, default=768, show_default=True)
@click.option("--lora-r", type=int, default=16, show_default=True)
@click.option("--val-fraction", type=float, default=0.05, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=int, default=None, help="torch threads (default: free cores)")
@click.option("--save-every", type=int, default=25, show_default=True, help="checkpoint cadence")
@click.option("--bf16", is_flag=True, help="bfloat16 matmuls (AVX512-BF16/AMX CPUs)")
def train(
    rows: str,
    out: str,
    base: str,
    method: str,
    epochs: int,
    lr: float | None,
    batch_rows: int,
    micro_tokens: int,
    max_length: int,
    lora_r: int,
    val_fraction: float,
    seed: int,
    threads: int | None,
    save_every: int,
    bf16: bool,
) -> None:
    """Fine-tune the student on ROWS (LoRA by default, on CPU); resumes from --out."""
    from ponder.backends.embedded import default_threads
    from ponder.cli.progress import step_progress
    from ponder.distill.plots import loss_plot
    from ponder.distill.train import TrainOptions
    from ponder.distill.train import train as run_training

    options = TrainOptions(
        base=base, method=method, epochs=epochs, lr=lr, batch_rows=batch_rows,  # type: ignore[arg-type]
        micro_tokens=micro_tokens, max_length=max_length, lora_r=lora_r, lora_alpha=2 * lora_r,
        val_fraction=val_fraction, seed=seed, threads=threads or default_threads(),
        save_every=save_every, bf16=bf16,
    )  # fmt: skip
    with step_progress("training", "loss") as on_step:
        report = run_training(rows, out, options, on_step)
    plot = loss_plot(Path(out))
    before = "-" if report.val_loss_before is None else f"{report.val_loss_before:.3f}"
    after = "-" if report.val_loss_after is None else f"{report.val_loss_after:.3f}"
    click.echo(
        f"{report.steps} steps on {report.train_rows} rows ({report.dropped} too long), "
        f"{report.tokens} tokens in {report.wall_s:.0f} s; validation loss {before} -> {after}; "
        f"{out}/{'adapter' if method == 'lora' else 'model'}" + (f", {plot}" if plot else "")
    )


@distill_group.command()
@click.argument("run", type=click.Path(exists=True, file_okay=False))
@click.option("--to", "to", default=None, help="the GGUF to write (default: RUN/model.gguf)")
@click.option("--type", "qtype", type=click.Choice(TYPES), default="q8_0",
              show_default=True)  # fmt: skip
@click.option("--name", default=None, help="register it under NAME for embedded:NAME")
def export(run: str, to: str | None, qtype: str, name: str | None) -> None:
    """Merge a training run into a GGUF the embedded backend serves, and register it."""
    from ponder import models
    from ponder.distill.export import merged_weights, write_gguf

    folder = Path(run)
    target = Path(to) if to else folder / "model.gguf"
    if name is not None:
        models.check_local_name(name)
    weights, base_file, summary = merged_weights(folder)
    write_gguf(weights, base_file, target, qtype, name=name or target.stem)
    click.echo(f"wrote {target} ({target.stat().st_size / 2**20:.0f} MiB, {qtype})")
    if name is not None:
        models.register_local(
            name, target, description=f"distilled from {summary.get('rows_file')}",
            params=float(sum(w.size for k, w in weights.items() if k != "lm_head.weight")),
            provenance=f"ponder distill: {base_file.name} + {summary['options']['method']}",
        )  # fmt: skip
        click.echo(f"registered: ponder ask --model embedded:{name} ...")
