"""Verifiers and step search against voting, side by side on the same items (issue 11).

Part 1, stored samples (``benchmarks/data``, no model): per model and suite, majority of
8, pass@8 (one of 8 right), and best-of-8 with the logprob and calc scorers, each with a
95% bootstrap interval over items, over the same shuffles of 8 of the 16 stored samples;
and the share of the maj@8 -> pass@8 gap that best-of-8 with calc closes (target: at
least half on arith, for both models).

Part 2, run directories of ``ponder eval run`` holding ``sample:n=8`` records and live
``tot``/``beam`` records on the same items: sc@k and bon@k (calc, logprob) replayed from
the samples for k = 1, 2, 4, 8, and each live search as measured, with tokens per item
(prompt + completion, every request counted). Each search is set against the best
self-consistency costing no more tokens, so "search pays" means more accuracy at equal
tokens.

    python benchmarks/search.py                                  # part 1
    python benchmarks/search.py --stored benchmarks/data/seed2/*.jsonl.gz  # other items
    python benchmarks/search.py runs/search-qwen-countdown       # part 2 as well

Part 3 (``--grid``), the matched-budget grid: with ``-m``, a live run of a sampling pool
and every search at every budget on one suite's items (resumable), then the table per
budget; without ``-m``, the tables of finished grid runs or their exports (each live
spec placed at its budget; see ``search_grid.py``).

    python benchmarks/search.py --grid runs/grid-smol-countdown \
        -m "embedded:smollm2-135m?threads=1" --suite countdown --levels 1,2,3,4 \
        --per-level 3 --budgets 4,8,16
    python benchmarks/search.py --grid runs/grid-smol-countdown --grid runs/grid-smol-arith

``--calc-confusion``: per model, how the calc verifier judges stored step-by-step
samples whose right answer is known (issue 26): false alarms (a right final answer that
calc flags, i.e. some stated equation is false) and misses (a wrong one it passes), with
the samples it could not check (no equation) counted apart.

    python benchmarks/search.py --calc-confusion benchmarks/data/word16/*qwen*.jsonl.gz \
        benchmarks/data/samples-qwen2.5-coder-0.5b.jsonl.gz
"""

from __future__ import annotations

import argparse
from pathlib import Path

from search_grid import SEARCHES, grid_main

from ponder.eval.calc_audit import calc_confusion
from ponder.eval.live import live_points
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import (
    Evaluator,
    Point,
    crosscheck_evaluators,
    frontier_accuracy,
    pareto,
    pass_evaluator,
    plan_evaluator,
    replay,
    strategy_evaluator,
)
from ponder.eval.store import Record, read_records
from ponder.plans import Plan, Stage
from ponder.strategies import make_strategy

DATA = Path(__file__).parent / "data"


def cell(p: Point) -> str:
    return f"{100 * p.accuracy:5.1f} [{100 * p.low:4.1f},{100 * p.high:5.1f}]"


VERIFIERS = (("logprob", "bon:n={k}"), ("calc", "bon:n={k},scorer=calc"))


def suite_of(pools: Pools, item_id: str) -> str:
    """An item's suite, or for dataset items its data set (``gsm8k-train-12`` ->
    ``gsm8k-train``)."""
    return pools.items[item_id].suite or item_id.rsplit("-", 1)[0]


def stored(reps: int, n: int, files: list[str]) -> None:
    paths = files or [str(f) for f in sorted(DATA.glob("*.jsonl*"))]
    pools = load_pools([r for f in paths for r in read_records(f)])
    print(
        f"Part 1: stored samples, k = at most {n} of each item's samples, {reps} shuffles; "
        "accuracy % [95% CI], TFLOPs per item (the checker's tokens counted at its size); "
        "crosscheck: programs of the named tier (checks=1: its greedy program)"
    )
    for t, tier in enumerate(pools.tiers):
        size = min(len(p.sampled) for p in pools.by_tier[tier.model].values())
        k = min(n, size)
        if k < 2:
            print(f"{tier.short}: fewer than 2 samples per item, no vote to verify")
            continue
        for suite in sorted({suite_of(pools, i) for i in pools.by_tier[tier.model]}):
            _stored_rows(pools, t, suite, k, reps)


def verifiers(pools: Pools, t: int, k: int) -> dict[str, Evaluator]:
    """Best-of-k on tier ``t`` under each verifier: logprob, calc, and a cross-check
    against 1 or 4 programs of this tier and of every larger tier that has them stored."""
    out = {v: strategy_evaluator(make_strategy(spec.format(k=k)), t) for v, spec in VERIFIERS}
    checked = crosscheck_evaluators(pools, t, k, checks=(1, 4))
    out.update({name.split(",", 1)[1].rsplit("@", 1)[0]: e for name, e in checked.items()})
    return out


def _stored_rows(pools: Pools, t: int, suite: str, k: int, reps: int) -> None:
    """maj@k, pass@k and best-of-k under each verifier on one tier and suite, and the
    share of the maj@k -> pass@k gap each closes (target: half, by the best one)."""
    tier = pools.tiers[t]
    ids = [i for i in pools.by_tier[tier.model] if suite_of(pools, i) == suite]
    evaluators: dict[str, Evaluator] = {
        f"maj@{k}": plan_evaluator(Plan((Stage(t, False, k),))),
        f"pass@{k} (oracle)": pass_evaluator(t, k),
    }
    checked = verifiers(pools, t, k)
    evaluators.update({f"bon@{k} {v}": e for v, e in checked.items()})
    points = replay(pools, evaluators, reps=reps, item_ids=ids)
    maj, oracle, *bons = points
    gap = oracle.accuracy - maj.accuracy
    print(f"\n{tier.short} on {suite}, {len(ids)} items, k = {k}")
    for p in points:
        closed = (p.accuracy - maj.accuracy) / gap if gap > 0 and p in bons else None
        share = f"{100 * closed:5.0f}% of the gap" if closed is not None else ""
        print(f"  {p.name:44s} {cell(p)} {p.flops / 1e12:7.2f} TFLOPs  {share}")
    best = max(bons, key=lambda p: p.accuracy)
    if gap > 0:
        closed = (best.accuracy - maj.accuracy) / gap
        verdict = "met" if closed >= 0.5 else "missed"
        print(f"  best verifier: {best.name}, {100 * closed:.0f}% of the gap: target {verdict}")


def searched(sources: list[str], reps: int) -> None:
    records = [r for s in sources for r in read_records(s)]
    pools = load_pools(records)
    typed = [Record.from_dict(r) for r in records]
    searched_ids = {r.item_id for r in typed if not r.strategy.startswith("sample")}
    ids = [i for i in pools.items if i in searched_ids] or list(pools.items)
    live = live_points([d for d, r in zip(records, typed, strict=True) if r.item_id in ids])
    for t, tier in enumerate(pools.tiers):
        mine = [p for p in live if p.name.endswith(f"@{tier.short}")]
        suites = sorted({pools.items[i].suite for i in ids})
        size = min(len(p.sampled) for p in pools.by_tier[tier.model].values())
        print(
            f"\nPart 2: {tier.short} on {', '.join(suites)}, {len(ids)} items; "
            f"replayed points over {reps} shuffles; accuracy % [95% CI], tokens per item"
        )
        ks = [k for k in (1, 2, 4, 8, 16) if k <= size]
        evaluators: dict[str, Evaluator] = {}
        for k in ks:
            evaluators[f"sc:n={k}"] = plan_evaluator(Plan((Stage(t, False, k),)))
        for k in ks[1:]:
            for scorer in ("calc", "logprob"):
                bon = make_strategy(f"bon:n={k},scorer={scorer}")
                evaluators[f"bon:n={k},scorer={scorer}"] = strategy_evaluator(bon, t)
        evaluators[f"pass@{ks[-1]} (oracle)"] = pass_evaluator(t, ks[-1])
        points = replay(pools, evaluators, reps=reps, item_ids=ids) + mine
        for p in sorted(points, key=lambda p: p.tokens):
            print(f"  {p.name:66s} {cell(p)} {p.tokens:8.0f}")
        sc_front = pareto([p for p in points if p.name.startswith("sc:")], "tokens")
        for p in mine:
            at = frontier_accuracy(sc_front, p.tokens, "tokens")
            delta = 100 * (p.accuracy - at)
            word = "no clear difference (the interval spans it)"
            if p.low > at:
                word = "search pays"
            elif p.high < at:
                word = "search does not pay"
            elif delta <= 0:
                word = "search does not pay here (within the interval)"
            print(
                f"  {p.name}: {100 * p.accuracy:.1f}% vs best sc within its tokens "
                f"{100 * at:.1f}% ({delta:+.1f} points): {word}"
            )
        _by_level(points, mine)


def _by_level(points: list[Point], mine: list[Point]) -> None:
    shown = [p for p in points if p.name in ("sc:n=8", "bon:n=8,scorer=calc")] + mine
    groups = sorted({g for p in shown for g in p.by_group})
    print("  accuracy % per suite:level: " + "  ".join(groups))
    for p in shown:
        row = "  ".join(f"{100 * p.by_group.get(g, float('nan')):5.0f}" for g in groups)
        print(f"  {p.name:66s} {row}")


def calc_table(files: list[str]) -> None:
    """The calc verifier's confusion on stored samples, per model and suite, then per model."""
    records = [r for f in files for r in read_records(f)]
    suites = calc_confusion(records, by_suite=True)
    tables = suites + [
        t for t in calc_confusion(records) if sum(s.model == t.model for s in suites) > 1
    ]
    print("calc on stored samples: flagged = states a false equation; % of right / wrong")
    print(
        f"{'model':28s} {'suite':8s} {'items':>5s} {'samples':>7s} {'right':>5s} {'wrong':>5s} "
        f"{'false alarms':>15s} {'misses':>15s} {'unchecked r/w':>13s}"
    )
    for table in tables:
        alarms = f"{table.right_flagged} ({100 * table.false_alarm_rate:4.1f}%)"
        misses = f"{table.wrong_passed} ({100 * table.miss_rate:4.1f}%)"
        unchecked = f"{table.right_unchecked}/{table.wrong_unchecked}"
        model, suite = table.model.split(":")[-1], table.suite or "all"
        print(
            f"{model:28s} {suite:8s} {table.items:5d} {table.samples:7d} {table.right:5d} "
            f"{table.wrong:5d} {alarms:>15s} {misses:>15s} {unchecked:>13s}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "runs", nargs="*", help="run dirs or record files: sample:n=8 and tot/beam records"
    )
    parser.add_argument("--reps", type=int, default=200, help="shuffles (and bootstrap draws)")
    parser.add_argument("--n", type=int, default=8, help="samples per vote / best-of-N")
    parser.add_argument("--skip-stored", action="store_true", help="part 2 only")
    parser.add_argument(
        "--stored",
        action="extend",
        nargs="+",
        default=[],
        help="part 1's sample files (default: benchmarks/data/*.jsonl.gz)",
    )
    parser.add_argument(
        "--calc-confusion",
        nargs="+",
        metavar="FILE",
        help="only the calc verifier's false alarms and misses on these stored records",
    )
    grid = parser.add_argument_group("part 3: the matched-budget grid")
    grid.add_argument("--grid", action="append", default=[], help="grid run dir (repeatable)")
    grid.add_argument("-m", "--model", help="run the grid live on this backend spec")
    grid.add_argument("--suite", default="countdown", help="built-in suite of a live grid")
    grid.add_argument("--levels", help="suite levels, e.g. 1,2,3,4")
    grid.add_argument("--per-level", type=int, default=3, help="items per level")
    grid.add_argument("--seed", type=int, default=0, help="suite seed")
    grid.add_argument("--budgets", default="4,8,16", help="budgets, as multiples of d")
    grid.add_argument("--searches", default=",".join(SEARCHES), help="e.g. beam-calc,tot-value@8")
    grid.add_argument("--step-tokens", type=int, default=64, help="beam/tot tokens per step")
    grid.add_argument("--min-steps", type=int, default=1, help="beam/tot min_steps")
    grid.add_argument(
        "--max-tokens",
        type=int,
        default=256,
        help="tokens per sampled answer (0: the model's default budget)",
    )
    grid.add_argument("--data", help="a JSONL dataset (as `eval run --data` reads) for --suite")
    grid.add_argument("--limit", type=int, help="search the first N items of --data")
    grid.add_argument(
        "--d",
        type=float,
        help="pin d (tokens per sampled answer) so searches on added items keep the budgets "
        "of the run they extend; default: measured on the pool",
    )
    args = parser.parse_args()
    if args.limit is not None and not args.data:
        parser.error("--limit takes the first N items of --data: give --data")
    if args.limit is not None and not args.limit > 0:
        parser.error(f"--limit must be a positive number of items, got {args.limit}")
    if args.d is not None and not args.d > 0:
        parser.error(f"--d must be a positive number of tokens, got {args.d}")
    if args.calc_confusion:
        calc_table(args.calc_confusion)
        return
    if args.grid:
        grid_main(args)
        return
    if not args.skip_stored:
        stored(args.reps, args.n, args.stored)
    if args.runs:
        searched(args.runs, args.reps)


if __name__ == "__main__":
    main()
