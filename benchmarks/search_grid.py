"""The matched-budget grid of ``benchmarks/search.py --grid`` (issue 11, item 4).

One run per model and suite, on the same items: a sampling pool (``sample:n=N``, one
greedy answer and N at T=0.7), then the live searches, each capped at a budget of
completion tokens per question. A budget is a multiple of ``d``, the mean completion
tokens of one sampled answer on these items for this model: at ``k`` x, ``beam`` and
``tot`` get ``token_budget=round(k * d)`` (their steps, and their evaluation, shrink to fit),
and ``sc``, ``bon`` and pass@k (the oracle) get ``n=k`` samples; ``sc`` and ``bon`` with
the free scorers (calc, logprob) are replayed from the pool, ``bon`` with the judge is
run live. Each row: accuracy with a 95% bootstrap interval over items, completion and
total tokens per item, and its difference from ``sc`` at the same budget, paired by
item, with its interval.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ponder.eval.live import bootstrap_interval
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import Evaluator, pass_evaluator, plan_evaluator, strategy_evaluator
from ponder.eval.store import Record, read_records
from ponder.plans import Plan, Stage
from ponder.strategies import make_strategy, parse_strategy_spec

BEAM = "beam:n=4,width=2,depth=8,step_tokens={s}"
TOT = "tot:k=3,b=2,depth=8,step_tokens={s}"
CAP = "token_budget={b}{ms}"  # runs stored before the rename say budget= (live_budgets)
SEARCHES = {
    "beam-calc": f"{BEAM},scorer=calc,{CAP}",
    "beam-logprob": f"{BEAM},scorer=logprob,{CAP}",
    "beam-judge": f"{BEAM},scorer=judge,{CAP}",
    "tot-calc": f"{TOT},evaluate=scorer,scorer=calc,{CAP}",
    "tot-judge": f"{TOT},evaluate=scorer,scorer=judge,{CAP}",
    "tot-value": f"{TOT},evaluate=value,{CAP}",
    "bon-judge": "bon:n={k},max_tokens={m},scorer=judge",
}
REPLAYED = ("calc", "logprob")


@dataclass(frozen=True)
class Grid:
    budgets: tuple[int, ...]  # multiples of d
    searches: tuple[tuple[str, tuple[int, ...]], ...]  # (name, the budgets it runs at)
    step_tokens: int
    max_tokens: int
    min_steps: int = 1

    def pool_spec(self) -> str:
        """The pool's spec; with ``max_tokens`` 0 the model's default budget, spelled as
        ``ponder eval run -s sample:n=K`` stores it (so a stored pool can seed the run)."""
        if not self.max_tokens:
            return f"sample:n={max(self.budgets)}"
        return f"sample:n={max(self.budgets)},max_tokens={self.max_tokens}"

    def specs(self, d: float) -> dict[str, tuple[str, int]]:
        """Every live spec at every budget: spec -> (search name, budget multiple)."""
        out = {}
        for k in self.budgets:
            for name, at in self.searches:
                if k in at:
                    ms = f",min_steps={self.min_steps}" if self.min_steps > 1 else ""
                    spec = SEARCHES[name].format(
                        s=self.step_tokens, b=round(k * d), k=k, m=self.max_tokens, ms=ms
                    )
                    out[spec] = (name, k)
        return out


def parse_searches(text: str, budgets: Sequence[int]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """``beam-calc,tot-value@8`` -> each search with the budgets it runs at (all by default)."""
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, at = part.partition("@")
        if name not in SEARCHES:
            sys.exit(f"unknown search {name!r}: use {', '.join(SEARCHES)}")
        chosen = tuple(int(x) for x in at.split("+")) if at else tuple(budgets)
        if not set(chosen) <= set(budgets):
            sys.exit(f"{part}: budgets {chosen} are not all in --budgets {tuple(budgets)}")
        out.append((name, chosen))
    return tuple(out)


def sampled_tokens(pools: Pools) -> float:
    """d: the mean completion tokens of one sampled answer, over items."""
    tier = pools.tiers[0].model
    means = [
        np.mean([s.completion_tokens for s in p.sampled]) for p in pools.by_tier[tier].values()
    ]
    return float(np.mean(means))


def run_live(args: Any, grid: Grid) -> None:
    """The pool, then every search at every budget (resumable: finished items are kept)."""
    from ponder.backends import load_backend
    from ponder.cli.common import ensure_model
    from ponder.errors import DataError
    from ponder.eval.datasets import load_jsonl
    from ponder.eval.runner import run_eval
    from ponder.eval.store import SampleStore
    from ponder.eval.suites import suite_items

    levels = [int(x) for x in args.levels.split(",")] if args.levels else None
    if args.data:
        try:
            items = load_jsonl(args.data)[: args.limit]
        except DataError as exc:
            sys.exit(str(exc))
    else:
        items = suite_items(args.suite, args.per_level, args.seed, levels)
    store = SampleStore(args.grid[0])
    ensure_model(args.model)
    backend = load_backend(args.model)

    def progress(done: int, total: int, line: dict[str, Any]) -> None:
        record = Record.from_dict(line)
        mark = f"error {record.error}" if record.error else record.correct
        print(f"  {done}/{total} {record.strategy} {record.item_id}: {mark}", flush=True)

    async def go() -> None:
        await run_eval(
            items,
            backend,
            [grid.pool_spec()],
            store,
            model=args.model,
            concurrency=1,
            progress=progress,
        )
        pools = load_pools(store.records())
        d = args.d or sampled_tokens(pools)
        print(f"d = {d:.1f} completion tokens per sampled answer", flush=True)
        await run_eval(
            items,
            backend,
            list(grid.specs(d)),
            store,
            model=args.model,
            concurrency=1,
            progress=progress,
        )

    asyncio.run(go())


def per_item(pools: Pools, evaluate: Evaluator, ids: Sequence[str], reps: int) -> np.ndarray:
    """Each item's accuracy and total tokens, averaged over ``reps`` shuffles."""
    out = np.zeros((len(ids), 2))
    for r in range(reps):
        rng = random.Random(r)
        for j, item_id in enumerate(ids):
            got = evaluate(pools, item_id, rng)
            out[j] += (got.correct, got.spend.tokens)
    return out / reps


@dataclass
class Row:
    name: str
    correct: dict[str, float]  # item id -> accuracy
    completion: float  # per item
    total: float  # per item


def replayed_rows(
    pools: Pools, k: int, ids: list[str], reps: int, d_of: dict[str, float]
) -> list[Row]:
    evaluators: dict[str, Evaluator] = {
        f"sc:n={k} (replayed)": plan_evaluator(Plan((Stage(0, False, k),)))
    }
    for scorer in REPLAYED:
        bon = make_strategy(f"bon:n={k},scorer={scorer}")
        evaluators[f"bon:n={k},scorer={scorer} (replayed)"] = strategy_evaluator(bon, 0)
    evaluators[f"pass@{k} (oracle)"] = pass_evaluator(0, k)
    completion = k * float(np.mean([d_of[i] for i in ids]))
    rows = []
    for name, evaluate in evaluators.items():
        got = per_item(pools, evaluate, ids, reps)
        rows.append(
            Row(name, dict(zip(ids, got[:, 0], strict=True)), completion, float(got[:, 1].mean()))
        )
    return rows


def live_row(spec: str, records: list[Record], item_ids: set[str]) -> Row | None:
    latest = {r.item_id: r for r in records if r.strategy == spec and r.item_id in item_ids}
    done = {i: r for i, r in latest.items() if not r.error}
    if not done:
        return None
    usage = [r.usage for r in done.values()]
    completion = float(np.mean([u.get("completion_tokens", 0) for u in usage]))
    total = completion + float(np.mean([u.get("prompt_tokens", 0) for u in usage]))
    correct = {i: float(bool(r.correct)) for i, r in done.items()}
    return Row(spec + " [live]", correct, completion, total)


def live_budgets(records: list[Record], d: float) -> dict[str, int]:
    """Each live spec of a grid run with its budget as a multiple of ``d`` (``token_budget=``
    of a search over d, rounded, or ``budget=`` as runs stored before the rename spell it;
    ``n`` of a live best-of-N)."""
    out = {}
    for r in records:
        spec = r.strategy
        if spec.startswith("sample") or spec in out:
            continue
        _, options = parse_strategy_spec(spec)
        tokens = options.get("token_budget", options.get("budget"))
        if tokens is not None:
            out[spec] = round(int(tokens) / d)
        elif "n" in options:
            out[spec] = int(options["n"])
    return out


def cell(values: Sequence[float], reps: int = 1000) -> str:
    low, high = bootstrap_interval(values, reps)
    return f"{100 * np.mean(values):5.1f} [{100 * low:5.1f},{100 * high:5.1f}]"


def versus(row: Row, sc: Row, reps: int) -> str:
    ids = sorted(row.correct)
    diff = [row.correct[i] - sc.correct[i] for i in ids]
    low, high = bootstrap_interval(diff, reps)
    return f"{100 * np.mean(diff):+6.1f} [{100 * low:+6.1f},{100 * high:+6.1f}]"


def table(run: str, grid: Grid, reps: int) -> None:
    lines = read_records(run)
    pools = load_pools(lines)
    records = [Record.from_dict(r) for r in lines]
    tier = pools.tiers[0]
    searched = {r.item_id for r in records if not r.strategy.startswith("sample")}
    ids = sorted(i for i in pools.items if i in searched) or sorted(pools.items)
    d_of = {i: float(np.mean([s.completion_tokens for s in pools.pool(0, i).sampled])) for i in ids}
    d = sampled_tokens(pools)  # over the whole pool, as when the budgets were set
    suites = sorted({pools.items[i].suite or "data" for i in ids})
    print(
        f"\n{'/'.join(suites)} on {tier.short}: {len(ids)} items; d = {d:.0f} completion tokens "
        f"per sampled answer; accuracy % [95% CI], tokens per item; vs sc paired by item"
    )
    specs = live_budgets(records, d)
    size = min(len(pools.pool(0, i).sampled) for i in ids)
    budgets = sorted({*grid.budgets, *specs.values()})
    if any(k > size for k in budgets):
        print(f"  (budgets over {size}x left out: the pool holds {size} samples per item)")
    for k in (k for k in budgets if k <= size):
        print(f"  budget {k}x = {round(k * d)} completion tokens")
        print(
            f"    {'strategy':92s} {'items':>5s} {'accuracy':>19s} {'compl.':>7s} "
            f"{'total':>7s}  vs sc:n={k}"
        )
        rows = replayed_rows(pools, k, ids, reps, d_of)
        sc = rows[0]
        rows += [
            r
            for spec, at in specs.items()
            if at == k
            if (r := live_row(spec, records, set(ids))) is not None
        ]
        for row in rows:
            vs = "" if row is sc or row.name.startswith("pass@") else versus(row, sc, reps)
            values = list(row.correct.values())
            print(
                f"    {row.name:92s} {len(values):5d} {cell(values, reps)} {row.completion:7.0f} "
                f"{row.total:7.0f}  {vs}"
            )


def grid_main(args: Any) -> None:
    budgets = tuple(int(x) for x in args.budgets.split(","))
    searches = parse_searches(args.searches, budgets)
    grid = Grid(budgets, searches, args.step_tokens, args.max_tokens, args.min_steps)
    if args.model:
        if len(args.grid) != 1:
            sys.exit("a live grid run writes one run directory: give --grid once")
        run_live(args, grid)
    for run in args.grid:
        if not Path(run).exists():
            sys.exit(f"{run}: no such run directory or record file")
        table(run, grid, args.reps)
