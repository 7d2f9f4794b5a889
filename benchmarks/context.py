"""A needle-in-a-haystack grid on the embedded model: prefill speed and grid wall time.

gkamradt's NIAH runs 35 lengths x 35 depths with an LLM judge; ponder's target is a
5 x 5 grid up to 4K tokens on SmolLM2-135M in under 5 minutes on a 2-core machine,
scored exactly. In one run this prints:
  * prefill tokens per second of one uncached prompt, shortest and longest length;
  * the grid's wall time as ``ponder context niah`` runs it (one slot, cells of a
    length in a row, so consecutive prompts share the haystack up to the needle and
    llama.cpp's prompt cache reuses it), and the same prompts with the cache defeated
    (a different first line per cell: what a server without prefix caching, or a
    script that draws a new haystack per cell, pays), interleaved length by length
    so that the machine's load hits both alike, with the ratio and the tokens each
    had to prefill;
  * the accuracy grid, and a heatmap PNG.

    python benchmarks/context.py [--threads 1] [--lengths 800,1600,2400,3200,4000]
        [--depths 0,0.25,0.5,0.75,1] [--skip-baseline] [--plot heatmap.png]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from typing import Any

from ponder.backends import load_backend
from ponder.backends.embedded import EmbeddedBackend
from ponder.context import tokenizer_for
from ponder.context.tokens import Tokenizer, tokens_before
from ponder.eval.context_sweeps import NiahSpec, niah_cases, run_cases
from ponder.eval.context_sweeps.cases import Case
from ponder.eval.context_sweeps.plots import heatmap
from ponder.eval.context_sweeps.results import grid
from ponder.eval.store import SampleStore


async def prefill_rate(backend: EmbeddedBackend, case: Case, salt: str) -> dict[str, Any]:
    """One prompt with nothing cached (a salt in front), one token out: llama.cpp timings."""
    body = {
        "messages": [{"role": "user", "content": f"{salt}\n{case.prompt}"}],
        "max_tokens": 1,
        "temperature": 0.0,
    }
    data = await backend.chat_raw(body)
    return dict(data["timings"])


async def timed(backend: EmbeddedBackend, cases: list[Case], store: SampleStore) -> float:
    start = time.perf_counter()
    await run_cases(cases, backend, store, model="bench")
    return time.perf_counter() - start


def common_prefix(a: str, b: str) -> int:
    """How many leading characters two strings share."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def to_prefill(cases: list[Case], tokenizer: Tokenizer) -> int:
    """Tokens a one-slot prompt cache must prefill: each prompt less the prefix it
    shares with the one before (llama.cpp keeps the longest common prefix)."""
    total, previous = 0, ""
    for case in cases:
        offsets = tokenizer.offsets(case.prompt)
        shared = common_prefix(previous, case.prompt)
        total += len(offsets) - tokens_before(offsets, shared)
        previous = case.prompt
    return total


async def main(args: argparse.Namespace) -> None:
    lengths = tuple(int(x) for x in args.lengths.split(","))
    depths = tuple(float(x) for x in args.depths.split(","))
    ctx = max(lengths) + 512
    spec_text = f"embedded:smollm2-135m?threads={args.threads}&slots=1&ctx={ctx}"
    backend = load_backend(spec_text)
    assert isinstance(backend, EmbeddedBackend)
    tokenizer = tokenizer_for(backend)
    cases = niah_cases(NiahSpec(lengths, depths), tokenizer)
    print(f"{spec_text}; tokens: {tokenizer.source}; {len(cases)} cells", flush=True)
    for length in sorted({min(lengths), max(lengths)}):
        case = next(c for c in cases if c.length == length)
        t = await prefill_rate(backend, case, f"run {time.time()}")
        print(f"prefill {t['prompt_n']:5d} tokens: {t['prompt_per_second']:6.0f} tokens/s")
    salted = [replace(c, prompt=f"Cell {i}.\n{c.prompt}") for i, c in enumerate(cases)]
    seconds = {"ours": 0.0, "baseline": 0.0}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        stores = {"ours": SampleStore(a), "baseline": SampleStore(b)}
        for i, length in enumerate(sorted(lengths)):  # interleaved: load changes hit both
            runs = {
                "ours": [c for c in cases if c.length == length],
                "baseline": [c for c in salted if c.length == length],
            }
            names = ["ours", "baseline"][:: 1 if i % 2 == 0 else -1]
            for name in names[: 1 if args.skip_baseline else 2]:
                seconds[name] += await timed(backend, runs[name], stores[name])
            print(
                f"  length {length}: ours {seconds['ours']:.0f} s, "
                f"baseline {seconds['baseline']:.0f} s so far",
                flush=True,
            )
        records = stores["ours"].records()
    ours = seconds["ours"]
    sent = sum(r["prompt_tokens"] for r in records)
    print(
        f"grid, as ponder context niah runs it: {ours:6.1f} s ({sent} prompt tokens sent, "
        f"{to_prefill(cases, tokenizer)} to prefill)"
    )
    if not args.skip_baseline:
        base = seconds["baseline"]
        print(
            f"grid, no prefix reuse (baseline):     {base:6.1f} s "
            f"({to_prefill(salted, tokenizer)} to prefill)"
        )
        print(f"ratio baseline / ponder: {base / ours:.2f}x")
    cells = grid(records)
    print("accuracy % by depth (rows) x length (columns):")
    print("depth " + " ".join(f"{x:>6d}" for x in lengths))
    for d in depths:
        print(f"{d:5.2f} " + " ".join(f"{100 * cells[(x, d)].mean:6.0f}" for x in lengths))
    total = sum(c.mean * c.n for c in cells.values()) / sum(c.n for c in cells.values())
    print(f"overall {100 * total:.0f}%; under 5 minutes: {'yes' if ours < 300 else 'no'}")
    if args.plot:
        heatmap(cells, args.plot, title=f"NIAH, SmolLM2-135M Q4_1, threads={args.threads}")
        print(f"heatmap: {args.plot}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lengths", default="800,1600,2400,3200,4000")
    parser.add_argument("--depths", default="0,0.25,0.5,0.75,1")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--plot", default=None)
    asyncio.run(main(parser.parse_args()))
