"""The router against every fixed strategy, replayed on stored samples (no model needed).

Fixed strategies (greedy, maj@k, stopping rules, best-of-N on each tier) are replayed
with bootstrap intervals; the router is cross-validated over items (trained and
budget-calibrated on the other folds) at a budget of 40% of the best fixed strategy's
cost, and at a sweep of budgets for its curve.

Target (issue 3): the router matches the accuracy of the best fixed strategy within 1
point at no more than 40% of its cost, and is on or above the fixed strategies' Pareto
frontier.

    python benchmarks/router.py                          # benchmarks/data/*.jsonl.gz
    python benchmarks/router.py RUN_DIR --reps 200 --report out/
    python benchmarks/router.py --write-default          # retrain the shipped router
    python benchmarks/router.py benchmarks/data/ladder/*.jsonl.gz --unit flops --write-only \
        --write-to src/ponder/routing/ladder_router.json  # the ladder's router
    python benchmarks/router.py runs/word-* --suites word  # one suite's items only
    python benchmarks/router.py runs/word-* --models qwen2.5-coder-0.5b  # one tier only
    python benchmarks/router.py --write-support          # store the shipped router's
                                                         # training range (no retraining)
    python benchmarks/router.py --l2 cv --quick          # ridge by nested cross-validation,
                                                         # only the headline budget
    python benchmarks/router.py --plans                  # every plan per suite, and the
                                                         # suite:level oracle in the budget
    python benchmarks/router.py benchmarks/data/*.jsonl.gz benchmarks/data/word16/*.jsonl.gz \
        benchmarks/data/seed2/*.jsonl.gz --quick --cv-repeats 3   # 152 items, 3 draws of folds
    python benchmarks/router.py benchmarks/data/*.jsonl.gz benchmarks/data/word16/*.jsonl.gz \
        benchmarks/data/seed2/*.jsonl.gz --l2 cv --write-default  # the shipped router
                                                         # (--write-only: no cross-validation)
    python benchmarks/router.py benchmarks/data/*.jsonl.gz benchmarks/data/word16/*.jsonl.gz \
        benchmarks/data/seed2/*.jsonl.gz benchmarks/data/seed3/*.jsonl.gz \
        benchmarks/data/program/*.jsonl.gz --quick --cv-repeats 3 --no-probe
                                                         # 220 items with program samples:
                                                         # program-of-thought strategies and
                                                         # plans join the comparison

Accuracy is also printed per suite, and the shipped router is replayed as it is (with and
without its out-of-distribution check) next to the cross-validated one. Each budget is
also run with a probe router (``auto+probe``: a greedy sample on tier 0 first, paid for,
then a plan chosen on the question and on what that sample showed);
``--write-default --probe`` ships one.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from ponder.errors import ConfigError, DataError
from ponder.eval.pools import Pools, load_pools
from ponder.eval.replay import Point, frontier_accuracy, group_of, pareto, replay
from ponder.eval.store import read_records
from ponder.report import Report, write_report
from ponder.routing.catalogue import pool_plans
from ponder.routing.compare import (
    best_point,
    direct_point,
    fixed_points,
    folds_of,
    headline,
    router_evaluator,
    router_point,
    strata,
)
from ponder.routing.features import features
from ponder.routing.router import Router
from ponder.routing.router_file import default_router, load_router
from ponder.routing.support import support_of
from ponder.routing.training import label_items, train_router

DATA = Path(__file__).parent / "data"
DEFAULT_ROUTER = Path(__file__).parent.parent / "src" / "ponder" / "routing" / "default_router.json"


def row(name: str, acc: float, tokens: float, dollars: float, note: str = "") -> str:
    return f"{name:34s} {100 * acc:6.1f} {tokens:9.0f} {1000 * dollars:10.5f}  {note}"


def only_suites(pools: Pools, names: str | None) -> Pools:
    if not names:
        return pools
    wanted = set(names.split(","))
    items = {i: item for i, item in pools.items.items() if item.suite in wanted}
    return Pools(pools.tiers, items, pools.by_tier, pools.programs)


def per_suite(point: Point, pools: Pools) -> dict[str, tuple[float, float]]:
    """Accuracy and tokens per item of each suite (each suite:level group weighs by its
    items)."""
    tokens_by_group = point.extra.get("tokens_by_group", {})
    sums: dict[str, list[float]] = {}
    for item_id in pools.items:
        group = group_of(pools, item_id)
        row = sums.setdefault(group.split(":")[0], [0.0, 0.0, 0.0])
        row[0] += point.by_group.get(group, 0.0)
        row[1] += tokens_by_group.get(group, 0.0)
        row[2] += 1
    return {suite: (acc / n, tokens / n) for suite, (acc, tokens, n) in sorted(sums.items())}


def by_suite(point: Point, pools: Pools) -> str:
    """Accuracy per suite, as a line."""
    return " ".join(f"{s} {100 * acc:.1f}" for s, (acc, _) in per_suite(point, pools).items())


def shipped_point(pools: Pools, router: Router, name: str) -> Point:
    """The shipped router replayed as it is (no retraining, no cross-validation)."""
    [point] = replay(pools, {name: router_evaluator(router, len(pools.tiers))}, reps=20)
    return point


def print_shipped(pools: Pools) -> None:
    """The shipped router as it is, with and without its out-of-distribution check."""
    shipped = default_router()
    if shipped is None:
        return
    print()
    for label, router in (
        ("shipped", shipped),
        ("shipped-nocheck", replace(shipped, support=None)),
    ):
        try:
            point = shipped_point(pools, router, label)
        except DataError as exc:  # a plan the shipped router may pick that the runs lack
            print(f"{label}: left out: {exc}")
            return
        short = f" (asked {point.missing:.1f} samples/q the pools lack)" if point.missing else ""
        note = by_suite(point, pools) + short
        print(row(point.name, point.accuracy, point.tokens, point.dollars, note))


def write_support(pools: Pools) -> None:
    """Store the shipped router's training range (its own training items) in its file."""
    shipped = load_router(DEFAULT_ROUTER)
    shipped.support = support_of(
        np.array([features(item.question) for item in pools.items.values()])
    )
    shipped.save(DEFAULT_ROUTER)
    print(f"wrote the support of {len(pools.items)} training items into {DEFAULT_ROUTER}")


def print_headline(
    auto: Point, fixed: list[Point], front: list[Point], pools: Pools, unit: str
) -> None:
    """auto against the best fixed strategy and the frontier, costs in the budget's unit."""
    line = headline(auto, fixed, unit)
    best = best_point(fixed, unit)
    gap = auto.accuracy - frontier_accuracy(front, getattr(auto, unit), unit)
    print(f"\n{line.sentence}  Per suite: {by_suite(auto, pools)}")
    print(
        f"accuracy vs best: {100 * (auto.accuracy - best.accuracy):+.1f} pts "
        f"(target >= -1.0); cost: {100 * line.cost_share:.0f}% of best's {unit} (target "
        f"<= 40%; in tokens {100 * auto.tokens / best.tokens:.0f}%); "
        f"vs frontier at its cost: {100 * gap:+.1f} pts (target >= 0)"
    )


def print_per_suite(auto: Point, fixed: list[Point], pools: Pools) -> None:
    """Per suite, auto against majority-of-8 on the largest tier (issue 15's second
    target: at least as accurate at no more than 40% of its tokens)."""
    big = pools.tiers[-1].short
    vote = next((p for p in fixed if p.name == f"sc:n=8@{big}"), None)
    if vote is None:
        return
    voted = per_suite(vote, pools)
    for suite, (a_acc, a_tok) in per_suite(auto, pools).items():
        v_acc, v_tok = voted[suite]
        share = a_tok / v_tok if v_tok else float("nan")
        verdict = "met" if a_acc >= v_acc and share <= 0.4 else "missed"
        print(
            f"  {suite:8s} {auto.name} {100 * a_acc:5.1f}% at {a_tok:6.0f} tokens vs "
            f"{vote.name} {100 * v_acc:5.1f}% at {v_tok:6.0f} ({100 * share:.0f}% of its "
            f"tokens): {verdict}"
        )


def group_plans(
    correct: np.ndarray, cost: np.ndarray, groups: np.ndarray, budget: float, rows: np.ndarray
) -> dict[str, int]:
    """Per group, the plan an oracle that knows each question's group picks: one trade-off
    for all groups, the most accurate on ``rows`` whose mean cost there fits ``budget``."""
    best: tuple[float, dict[str, int]] = (-1.0, {})
    for lam in np.geomspace(1e-6, 10.0, 120):
        picks = {}
        acc = spent = 0.0
        for g in sorted(set(groups[rows])):
            mine = rows & (groups == g)
            j = int(np.argmax(correct[mine].mean(0) - lam * cost[mine].mean(0)))
            picks[g] = j
            acc += correct[mine, j].sum()
            spent += cost[mine, j].sum()
        if spent / rows.sum() <= budget and acc > best[0]:
            best = (acc, picks)
    if not best[1]:  # nothing fits: the cheapest plan everywhere
        cheapest = int(np.argmin(cost[rows].mean(0)))
        return {g: cheapest for g in set(groups[rows])}
    return best[1]


def print_plans(pools: Pools, budget: float, unit: str, folds: int, repeats: int) -> None:
    """Each candidate plan's soft accuracy and mean cost (x direct) overall and per suite,
    then what an oracle that knows each question's suite and level reaches within
    ``budget``: choosing one plan per suite:level on these very items (in-sample, an
    optimistic bound) and on the other folds only (cross-validated like the router, over
    ``repeats`` draws of folds). The router sees only the text, so the cross-validated
    oracle is about the best it can hope for on this many items."""
    ids = list(pools.items)
    plans = pool_plans(pools)
    labels = label_items(pools, plans, ids, unit=unit)
    cost = labels.cost / labels.cost[:, 0].mean()
    suites = sorted({pools.items[i].suite or "data" for i in ids})
    print(f"\nplans: soft accuracy % and cost x direct ({unit}), all items and per suite")
    for j, plan in enumerate(plans):
        cells = [f"all {100 * labels.correct[:, j].mean():5.1f} {cost[:, j].mean():5.1f}x"]
        for suite in suites:
            rows = np.array([(pools.items[i].suite or "data") == suite for i in ids])
            acc, spent = labels.correct[rows, j].mean(), cost[rows, j].mean()
            cells.append(f"{suite} {100 * acc:5.1f} {spent:5.1f}x")
        print(f"  {plan.name:24s} " + " | ".join(cells))
    groups = np.array([f"{pools.items[i].suite}:{pools.items[i].difficulty}" for i in ids])
    everything = np.ones(len(ids), dtype=bool)
    picks = group_plans(labels.correct, cost, groups, budget, everything)
    chosen = np.array([picks[g] for g in groups])
    rows = np.arange(len(ids))
    print(
        f"  oracle by suite:level, in-sample, within {budget:.1f}x: "
        f"{100 * labels.correct[rows, chosen].mean():.1f}% at {cost[rows, chosen].mean():.1f}x"
    )
    acc = spent = 0.0
    for r in range(max(repeats, 1)):
        fold = folds_of(ids, folds, r, strata(pools))
        held_out = np.array([fold[i] for i in ids])
        for k in range(folds):
            picks = group_plans(labels.correct, cost, groups, budget, held_out != k)
            for n in np.where(held_out == k)[0]:
                acc += labels.correct[n, picks[groups[n]]]
                spent += cost[n, picks[groups[n]]]
    total = len(ids) * max(repeats, 1)
    print(
        f"  oracle by suite:level, cross-validated ({folds} folds x {max(repeats, 1)}), "
        f"within {budget:.1f}x: {100 * acc / total:.1f}% at {spent / total:.1f}x"
    )


def ridge(text: str) -> float | None:
    """``--l2``: a positive number, or "cv" (None: chosen by cross-validation)."""
    if text == "cv":
        return None
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the ridge strength must be > 0 or 'cv', got {text}")
    return value


def check_counts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Stop in one line when ``--reps``, ``--cv-repeats`` or ``--folds`` is below its
    floor (zero bootstrap draws or a single fold have no meaning)."""
    for flag, value, least in (
        ("--reps", args.reps, 1),
        ("--cv-repeats", args.cv_repeats, 1),
        ("--folds", args.folds, 2),
    ):
        if value < least:
            parser.error(f"{flag} must be at least {least}, not {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", help="run dirs or .jsonl[.gz] record files")
    parser.add_argument("--reps", type=int, default=100, help="bootstrap repetitions")
    parser.add_argument("--folds", type=int, default=4, help="cross-validation folds")
    parser.add_argument(
        "--cv-repeats", type=int, default=1, help="draws of folds the router is averaged over"
    )
    parser.add_argument("--share", type=float, default=0.4, help="budget, share of best's cost")
    parser.add_argument("--report", default=None, help="also write a report to this folder")
    parser.add_argument("--write-default", action="store_true", help="write the shipped router")
    parser.add_argument(
        "--write-to",
        type=Path,
        default=DEFAULT_ROUTER,
        help="where --write-default/--write-only write (default: the shipped router; "
        "src/ponder/routing/ladder_router.json for the ladder's)",
    )
    parser.add_argument(
        "--write-only",
        action="store_true",
        help="write the shipped router without cross-validating it (fixed strategies only)",
    )
    parser.add_argument("--write-support", action="store_true", help="store its training range")
    parser.add_argument("--suites", default=None, help="only these suites' items (a,b)")
    parser.add_argument("--models", default=None, help="only these tiers, in order (a,b)")
    parser.add_argument(
        "--probe",
        nargs="?",
        const="cot@0",
        default=None,
        metavar="cot@T|pot@T",
        help="the probe router's probe (alone: tier 0's greedy answer; pot@1: tier 1's "
        "program); with --write-default/--write-only, write a probe router",
    )
    parser.add_argument(
        "--probe-only",
        action="store_true",
        help="the probe router's plan models read the probe alone, not the question's text",
    )
    parser.add_argument(
        "--no-probe", action="store_true", help="skip the cross-validated probe router (auto+probe)"
    )
    parser.add_argument(
        "--l2",
        type=ridge,
        default=2.0,
        help="the plan models' ridge strength, or 'cv': chosen by cross-validation inside "
        "each training fold (nested)",
    )
    parser.add_argument(
        "--terms",
        choices=("linear", "quadratic"),
        default="linear",
        help="the plan models read the features as they are or with their pairwise products",
    )
    parser.add_argument(
        "--unit",
        choices=("dollars", "tokens", "flops"),
        default="dollars",
        help="what the budget counts: dollars (each tier's price), tokens (every token "
        "alike) or flops (2 x active parameters x tokens)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="only the headline budget (no sweep of budgets)"
    )
    parser.add_argument(
        "--plans",
        action="store_true",
        help="also each candidate plan's accuracy and cost per suite, and what an in-sample "
        "oracle choosing one plan per suite:level reaches within the headline budget",
    )
    args = parser.parse_args()
    check_counts(parser, args)
    if not args.share > 0:
        parser.error(f"--share must be a positive share of the best's cost, not {args.share:g}")
    sources = args.sources or sorted(str(p) for p in DATA.glob("*.jsonl*"))
    pools = only_suites(load_pools([r for s in sources for r in read_records(s)]), args.suites)
    if args.models:
        pools = pools.reorder(args.models.split(","))
    if args.write_support:
        write_support(pools)
        return
    print(f"{len(pools.items)} items; tiers: {' < '.join(t.short for t in pools.tiers)}")
    fixed = fixed_points(pools, reps=args.reps)
    unit = args.unit  # the Point field the budget counts, and every cost compared
    direct, best = direct_point(fixed, pools), best_point(fixed, unit)
    budget = args.share * getattr(best, unit) / getattr(direct, unit)
    front = pareto(fixed, unit)
    print(f"{'strategy':34s} {'acc %':>6s} {'tokens/q':>9s} {'$/1k q':>10s}  cut % / per suite")
    for p in fixed:
        note = f"cut {100 * p.truncated:4.1f}%; {by_suite(p, pools)}"
        print(row(p.name, p.accuracy, p.tokens, p.dollars, note + (" *" if p in front else "")))
    if args.write_only:
        write_default(pools, budget, args, sources)
        return
    print_shipped(pools)
    if args.plans:
        print_plans(pools, budget, args.unit, args.folds, args.cv_repeats)
    print()
    autos: dict[str | bool, Point] = {}  # the headline budget's routers, computed once
    probing = args.probe or "cot@0"
    kinds: tuple[str | bool, ...] = (False,) if args.no_probe else (False, probing)
    shares = (args.share,) if args.quick else (0.1, 0.2, 0.3, args.share, 0.6, 1.0)
    for share in shares:
        b = max(share * getattr(best, unit) / getattr(direct, unit), 1.0)
        for probe in kinds:
            name = f"{label(probe)}@{share:.0%}"
            point = router_point(
                pools,
                b,
                args.folds,
                args.reps,
                name=name,
                probe=probe,
                text=not (probe and args.probe_only),
                l2=args.l2,
                repeats=args.cv_repeats,
                terms=args.terms,
                unit=args.unit,
            )
            if share == args.share:
                autos[probe] = replace(point, name=label(probe))
            if args.quick:
                continue
            gap = point.accuracy - frontier_accuracy(front, getattr(point, unit), unit)
            note = (
                f"budget {b:.2f}x direct; vs frontier {100 * gap:+.1f} pts; "
                f"{by_suite(point, pools)}; {point.extra['plans']}"
            )
            print(row(point.name, point.accuracy, point.tokens, point.dollars, note))
    for probe in kinds:
        print_headline(autos[probe], fixed, front, pools, unit)
        print_per_suite(autos[probe], fixed, pools)
    auto = autos[probing if args.probe and not args.no_probe else False]
    if args.report:
        tiers = [t.model for t in pools.tiers]
        report = Report(fixed=fixed, router=auto, headline=headline(auto, fixed, unit), tiers=tiers)
        print(write_report(report, args.report, "ponder router benchmark"))
    if args.write_default:
        write_default(pools, budget, args, sources)


def label(probe: str | bool) -> str:
    """The cross-validated router's name: auto, auto+probe (tier 0's greedy answer) or
    auto+pot@1 (a tier's program)."""
    if not probe:
        return "auto"
    return "auto+probe" if probe in (True, "cot@0") else f"auto+{probe}"


def write_default(
    pools: Pools, budget: float, args: argparse.Namespace, sources: list[str]
) -> None:
    """Train the shipped router on every item at the headline budget and write it."""
    shipped = train_router(
        pools,
        budget=max(budget, 1.0),
        probe=args.probe or False,
        text=not (args.probe and args.probe_only),
        l2=args.l2,
        terms=args.terms,
        unit=args.unit,
    )
    shipped.meta["trained_on"] = [Path(s).name for s in sources]
    shipped.save(args.write_to)
    print(f"wrote {args.write_to} (lam={shipped.lam:g}, budget {budget:.2f}x direct)")


if __name__ == "__main__":
    try:
        main()
    except (DataError, ConfigError) as exc:  # what the stored runs cannot support, in a line
        sys.exit(f"router.py: {exc}")
