"""Early stopping for self-consistency, replayed on stored samples (no model needed).

For each model tier with at least N stored samples per item, compares the fixed budget
(majority of N) with each stopping rule (esc, beta, margin) drawing up to N: mean
samples, tokens and dollars used and accuracy, side by side, over the same shuffles.
Every wave re-sends the prompt: ``tokens`` counts it each time, ``uncached`` counts
only what a backend with prefix caching computes (the re-sent prompt is served from
its cache, as llama.cpp and vLLM do), so both costs are shown.

Target (core issue): at least 3x fewer samples for at most 0.5 points of accuracy lost
against fixed N=16.

    python benchmarks/early_stopping.py                     # benchmarks/data/*.jsonl.gz
    python benchmarks/early_stopping.py RUN_DIR --n 16 --reps 200
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ponder.eval.pools import load_pools
from ponder.eval.replay import plan_evaluator, replay, strategy_evaluator
from ponder.eval.store import read_records
from ponder.plans import Plan, Stage
from ponder.strategies import make_strategy

DATA = Path(__file__).parent / "data"
RULES = ("esc", "beta", "margin")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", help="run dirs or .jsonl[.gz] record files")
    parser.add_argument("--n", type=int, default=16, help="the fixed budget N")
    parser.add_argument("--reps", type=int, default=200, help="shuffles per item")
    args = parser.parse_args()
    sources = args.sources or sorted(str(p) for p in DATA.glob("*.jsonl*"))
    pools = load_pools([r for s in sources for r in read_records(s)])
    print(f"{len(pools.items)} items; N={args.n}; {args.reps} shuffles per item")
    head = (
        f"{'model':22s} {'rule':8s} {'samples':>8s} {'x fewer':>8s} {'tokens':>8s} "
        f"{'uncached':>8s} {'x fewer':>8s} {'$/1k items':>10s} {'acc %':>7s} {'delta':>7s}"
    )
    for t, tier in enumerate(pools.tiers):
        sizes = {i: len(p.sampled) for i, p in pools.by_tier[tier.model].items()}
        ids = [i for i, size in sizes.items() if size >= args.n]
        if not ids:
            print(f"{tier.short}: no item has {args.n} stored samples (max {max(sizes.values())})")
            continue
        evaluators = {"fixed": plan_evaluator(Plan((Stage(t, False, args.n),)))}
        evaluators |= {
            rule: strategy_evaluator(make_strategy(f"sc:n={args.n},stop={rule}"), t)
            for rule in RULES
        }
        points = replay(pools, evaluators, reps=args.reps, item_ids=ids)
        fixed = points[0]
        print(f"\n{tier.short}: {len(ids)} items with >= {args.n} samples\n{head}")
        for p in points:
            fewer = fixed.samples / p.samples if p.samples else float("inf")
            uncached = p.tokens - p.cached
            fewer_tokens = (fixed.tokens - fixed.cached) / uncached if uncached else float("inf")
            delta = 100 * (p.accuracy - fixed.accuracy)
            verdict = ""
            if p.name != "fixed":
                verdict = "target met" if fewer >= 3 and delta >= -0.5 else "target missed"
            print(
                f"{tier.short:22s} {p.name:8s} {p.samples:8.2f} {fewer:8.2f} {p.tokens:8.0f} "
                f"{uncached:8.0f} {fewer_tokens:8.2f} {1000 * p.dollars:10.4f} "
                f"{100 * p.accuracy:7.1f} {delta:+7.1f}  {verdict}"
            )
        print("samples used per suite:level (accuracy %)")
        for group in fixed.by_group:
            used = [(p.name, p.extra["samples_by_group"][group], p.by_group[group]) for p in points]
            cells = "  ".join(f"{name} {n:5.2f} ({100 * acc:3.0f})" for name, n, acc in used)
            print(f"  {group:10s} {cells}")


if __name__ == "__main__":
    main()
