"""A needle-in-a-haystack grid on the embedded model: prefill speed and grid wall time.

gkamradt's NIAH runs 35 lengths x 35 depths with an LLM judge; ponder's target is a
5 x 5 grid up to 4K tokens on SmolLM2-135M in under 5 minutes on a 2-core machine,
scored exactly. In one run this prints:
  * prefill tokens per second of one uncached prompt, shortest and longest length;
  * the grid's wall time as ``ponder context niah`` runs it (one slot, cells of a
    length in a row, so consecutive prompts share the haystack up to the needle and
    llama.cpp's prompt cache reuses it), and the same prompts with the cache defeated
    (a different first line per cell: what a server without prefix caching, or a
    script that draws a new haystack per cell, pays), with the ratio;
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
from ponder.context import NiahSpec, niah_cases, run_cases, tokenizer_for
from ponder.context.cases import Case
from ponder.context.plots import heatmap
from ponder.context.results import grid
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


async def timed_grid(backend: EmbeddedBackend, cases: list[Case]) -> tuple[float, list[Any]]:
    with tempfile.TemporaryDirectory() as directory:
        store = SampleStore(directory)
        start = time.perf_counter()
        await run_cases(cases, backend, store, model="bench")
        return time.perf_counter() - start, store.records()


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
    ours, records = await timed_grid(backend, cases)
    sent = sum(r["prompt_tokens"] for r in records)
    print(f"grid, as ponder context niah runs it: {ours:6.1f} s ({sent} prompt tokens)", flush=True)
    if not args.skip_baseline:
        salted = [replace(c, prompt=f"Cell {i}.\n{c.prompt}") for i, c in enumerate(cases)]
        base, _ = await timed_grid(backend, salted)
        print(f"grid, no prefix reuse (baseline):     {base:6.1f} s")
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
