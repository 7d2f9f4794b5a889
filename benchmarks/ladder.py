"""The seed's claim on real word problems: compute on a small model against a larger one.

Replays the ladder's stored samples (``benchmarks/data/ladder/*.jsonl.gz``: GSM8K-train and
SVAMP items, each tier's greedy and sampled step-by-step answers and programs) without a
model. Per data set, one table and one plot of accuracy (95% bootstrap interval over
items) against FLOPs per question (2 x active parameters x every prompt and completion
token): each tier's greedy answer, program, majority of k and best-of-k with ``calc``,
the fixed strategies' Pareto frontier, and ``auto`` on the two largest tiers and on
every stored tier. ``auto`` is cross-validated over all items at once (trained and
budget-calibrated on the other folds, folds stratified by data set), so it never sees
which data set a question came from; its budget is a share of the best fixed strategy's
FLOPs (``--shares``). Wall seconds per question on this machine come beside FLOPs: each
replayed request timed at its tier's pace (``--pace``: prompt tokens/s and seconds per
decode step with one and eight sequences, measured by ``engine_limit.py --pace-out``;
a request of several samples decodes until its longest ends, its batch shrinking).

Targets (issue 16): auto reaches at least 90% of the best fixed strategy's accuracy at
no more than 20% of its FLOPs, and is within 1 point of it at no more than 40%; on
GSM8K-train it is at least as accurate as the largest tier's greedy answer at no more
than 1.5x its FLOPs.

    python benchmarks/ladder.py                          # benchmarks/data/ladder/*.jsonl.gz
    python benchmarks/ladder.py runs/ladder/* --plot-dir out/ --cv-repeats 3

A held-out check of a trained router file: ``--router`` replays it as ``auto`` runs it
live (at each budget of ``--shares``, read off its own calibration table), and
``--exclude`` leaves out the items it was trained on, so the table shows the file on
items it never saw, beside every fixed strategy on the same items:

    python benchmarks/ladder.py runs/ladder/* --exclude benchmarks/data/ladder \
      --router src/ponder/routing/ladder_router.json --no-cv
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from router import check_counts

from ponder.errors import ConfigError, DataError
from ponder.eval.plots import FLOPS_AXIS, plot_accuracy_vs_cost
from ponder.eval.pools import Pace, Pools, load_pools
from ponder.eval.replay import Point, pareto, replay
from ponder.eval.store import Record, read_records
from ponder.plans import probe_request
from ponder.routing.compare import best_point, fixed_points, router_evaluator, router_point
from ponder.routing.router import Router
from ponder.routing.router_file import load_router

DATA = Path(__file__).parent / "data" / "ladder"


def data_set(item_id: str) -> str:
    """An item's data set from its id: ``gsm8k-train-12`` -> ``gsm8k-train``."""
    return item_id.rsplit("-", 1)[0]


def labelled(pools: Pools) -> Pools:
    """The pools with each item's suite set to its data set, so folds are stratified by
    it and results come per data set."""
    items = {
        i: replace(item, suite=item.suite or data_set(i), difficulty=None)
        for i, item in pools.items.items()
    }
    return Pools(pools.tiers, items, pools.by_tier, pools.programs)


def stored_pools(sources: list[str]) -> Pools:
    """The pools of the stored runs ``sources`` (the ladder's when none), labelled."""
    files = sources or sorted(str(p) for p in DATA.glob("*.jsonl.gz"))
    return labelled(load_pools([r for s in files for r in read_records(s)]))


def only(pools: Pools, suite: str) -> Pools:
    items = {i: item for i, item in pools.items.items() if item.suite == suite}
    return Pools(pools.tiers, items, pools.by_tier, pools.programs)


def keep(name: str) -> bool:
    """The fixed strategies the table shows: greedy, program, majority of k, best-of-k
    with calc and checked by a program of its own tier or a larger one (the stopping
    rules and logprob best-of-N are in benchmarks/router.py)."""
    spec = name.rsplit("@", 1)[0]
    return (
        spec in ("cot", "pot")
        or (spec.startswith("sc:n=") and "stop=" not in spec)
        or spec.endswith("scorer=calc")
        or "scorer=crosscheck" in spec
    )


def progress(what: str, start: float) -> None:
    """A line on stderr while the replay runs (the whole run takes minutes)."""
    print(f"[{time.perf_counter() - start:5.0f} s] {what}", file=sys.stderr, flush=True)


def ridge(text: str) -> float | None:
    """``--l2``: a positive number, or cv (None: chosen inside each training fold)."""
    if text == "cv":
        return None
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"--l2 takes a positive number or cv, not {text!r}") from None
    if value <= 0:
        raise SystemExit(f"--l2 must be positive, got {value}")
    return value


def held_ids(source: str) -> set[str]:
    """``--exclude``: the ids of the items a run dir, a record file, or a folder of
    record files holds (in a folder, files that hold no stored records, such as the
    item lists beside them, are read past)."""
    path = Path(source)
    if not path.exists():
        raise SystemExit(f"--exclude {source}: no such file or folder")
    if not path.is_dir() or (path / "records.jsonl").is_file():
        return {Record.from_dict(r).item_id for r in read_records(str(path))}
    ids: set[str] = set()
    for file in sorted(path.glob("*.jsonl.gz")) + sorted(path.glob("*.jsonl")):
        try:
            ids |= {Record.from_dict(r).item_id for r in read_records(str(file))}
        except DataError:
            continue  # an item list, not a stored run
    if not ids:
        raise SystemExit(f"--exclude {source}: no stored runs there")
    return ids


def without(pools: Pools, ids: set[str]) -> Pools:
    items = {i: item for i, item in pools.items.items() if i not in ids}
    return Pools(pools.tiers, items, pools.by_tier, pools.programs)


def router_file(path: Path, pools: Pools) -> Router:
    """``--router``: a trained router file whose tiers these pools hold (all of them, or
    some: the ladder's top tier alone), its costs in FLOPs."""
    try:
        router = load_router(path)
    except (OSError, DataError, ConfigError) as exc:
        raise SystemExit(f"--router {path}: {exc}") from None
    have = [t.model for t in pools.tiers]
    if not router.tiers or not set(router.tiers) <= set(have):
        raise SystemExit(
            f"--router {path} was trained on tiers {', '.join(router.tiers) or '(none named)'}; "
            f"these runs hold {', '.join(have)}"
        )
    unit = str(router.meta.get("cost_unit", ""))
    if not unit.endswith("flops") or not router.meta.get("direct_cost"):
        unit = unit or "an unnamed unit"
        raise SystemExit(f"--router {path}: its costs are in {unit}, not FLOPs")
    return router


def file_point(router: Router, pools: Pools, flops: float, reps: int, name: str) -> Point:
    """The router file replayed as ``auto`` runs it, at a budget of ``flops`` a question
    (x its training items' direct cost, the unit its calibration table is in)."""
    budgeted = router.with_budget(flops / float(router.meta["direct_cost"]))
    chosen: dict[str, str] = {}
    own = pools.reorder(router.tiers)  # the tiers it was trained on, in its order
    [point] = replay(own, {name: router_evaluator(budgeted, len(own.tiers), chosen)}, reps=reps)
    point.extra = {**point.extra, "plans": dict(Counter(chosen.values()))}
    return point


def as_suite(point: Point, suite: str) -> Point:
    """A router point cut down to one data set's items (accuracy, interval, FLOPs)."""
    low, high = point.extra["interval_by_group"][f"{suite}:-"]
    return replace(
        point,
        accuracy=point.by_group[f"{suite}:-"],
        low=low,
        high=high,
        flops=point.extra["flops_by_group"][f"{suite}:-"],
        tokens=point.extra["tokens_by_group"][f"{suite}:-"],
        seconds=point.extra["seconds_by_group"][f"{suite}:-"],
    )


def probe_for(probe: str | None, stored: int, tiers: int) -> str | bool:
    """``--probe`` on a ladder of ``tiers`` of the ``stored`` tiers (its largest ones):
    the probe's tier counted from the top stays on the same model."""
    if probe is None:
        return False
    request = probe_request(probe)
    if request.tier >= stored:
        raise ConfigError(f"--probe {probe}: the runs hold {stored} tier(s)")
    tier = request.tier - (stored - tiers)
    if tier < 0:
        raise ConfigError(f"--probe {probe}: that tier is not among the {tiers} largest")
    return f"{'pot' if request.program else 'cot'}@{tier}"


def read_paces(path: Path) -> dict[str, Pace]:
    """``--pace``: the tiers' paces as ``engine_limit.py --pace-out`` wrote them."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {name: Pace.from_dict(pace) for name, pace in data["tiers"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, DataError) as exc:
        raise SystemExit(f"--pace {path}: cannot read paces ({exc})") from None


def row(p: Point, best: Point, front: list[Point]) -> str:
    mark = " *" if p in front else ""
    wall = f"{p.seconds:7.0f}" if p.seconds else "      -"
    return (
        f"  {p.name:36s} {100 * p.accuracy:5.1f} [{100 * p.low:4.1f}, {100 * p.high:5.1f}] "
        f"{p.flops / 1e12:8.2f} {p.tokens:7.0f} {wall} {100 * p.flops / best.flops:6.0f}%{mark}"
    )


def verdicts(auto: Point, best: Point, greedy: Point | None, suite: str) -> list[str]:
    share = auto.flops / best.flops
    lines = [
        f"  {auto.name}: {100 * auto.accuracy / best.accuracy:.0f}% of the best fixed "
        f"strategy's accuracy ({best.name}, {100 * best.accuracy:.1f}%) at {100 * share:.0f}% "
        f"of its FLOPs; {100 * (auto.accuracy - best.accuracy):+.1f} points"
        + (
            f"; {auto.seconds:.0f} s a question against its {best.seconds:.0f} s"
            if auto.seconds and best.seconds
            else ""
        )
    ]
    if greedy is not None and suite.startswith("gsm8k"):
        ratio = auto.flops / greedy.flops
        ok = auto.accuracy >= greedy.accuracy and ratio <= 1.5
        lines.append(
            f"  vs {greedy.name} ({100 * greedy.accuracy:.1f}%): {100 * auto.accuracy:.1f}% "
            f"at {ratio:.2f}x its FLOPs (target: at least as accurate at <= 1.5x): "
            f"{'met' if ok else 'missed'}"
        )
    return lines


TARGETS = (
    ("at least 90% of the best's accuracy at no more than 20% of its FLOPs", 0.20, "share"),
    ("within 1 point of the best at no more than 40% of its FLOPs", 0.40, "gap"),
)


def targets(autos: list[Point], best: Point) -> list[str]:
    """The issue's two headline targets over every ``auto`` point, to two decimals: met by
    the most accurate point within the FLOPs cap, or missed by the closest one."""
    lines = []
    for words, cap, kind in TARGETS:
        within = [a for a in autos if a.flops <= cap * best.flops]
        if not within:
            lines.append(f"  target, {words}: no auto point spends {100 * cap:.0f}% or less")
            continue
        a = max(within, key=lambda p: p.accuracy)
        share, gap = a.accuracy / best.accuracy, 100 * (a.accuracy - best.accuracy)
        ok = share >= 0.9 if kind == "share" else gap >= -1.0
        lines.append(
            f"  target, {words}: {'met' if ok else 'missed'} ({a.name}: {100 * share:.2f}% "
            f"of it, {gap:+.2f} points, at {100 * a.flops / best.flops:.2f}% of its FLOPs)"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="*", help="run dirs or .jsonl[.gz] record files")
    parser.add_argument("--reps", type=int, default=100, help="bootstrap repetitions")
    parser.add_argument("--folds", type=int, default=4)
    parser.add_argument("--cv-repeats", type=int, default=1)
    parser.add_argument(
        "--shares", default="0.2,0.4,0.6,1.0", help="auto's budgets, shares of the best's FLOPs"
    )
    parser.add_argument(
        "--l2",
        default="cv",
        help="the plan models' ridge: a number, or cv (chosen by nested cross-validation)",
    )
    parser.add_argument("--plot-dir", default=None, help="write one PNG per data set here")
    parser.add_argument(
        "--pace",
        type=Path,
        default=DATA / "pace.json",
        help="the tiers' paces on this machine, for wall seconds per question "
        "(benchmarks/engine_limit.py --pace-out); skipped when the default file is absent",
    )
    parser.add_argument(
        "--router",
        type=Path,
        default=None,
        help="also replay this trained router file as auto runs it live, at each budget "
        "(with --exclude: a held-out check on items it was not trained on)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        help="leave out the items these stored runs hold (a run dir, a record file, or a "
        "folder of record files); repeatable",
    )
    parser.add_argument(
        "--no-cv", action="store_true", help="skip the cross-validated auto (keep --router's)"
    )
    parser.add_argument(
        "--probe",
        default=None,
        metavar="pot@T|cot@T",
        help="cross-validate probe routers: each question's plan is chosen after this greedy "
        "draw (pot@1: the largest stored tier's program; paid for, reused by plans)",
    )
    parser.add_argument(
        "--probe-only",
        action="store_true",
        help="with --probe: the routers' plan models read the probe alone, not the text",
    )
    args = parser.parse_args()
    check_counts(parser, args)
    if args.probe_only and not args.probe:
        parser.error("--probe-only reads the probe alone: name one with --probe (pot@1)")
    try:
        shares = [float(x) for x in args.shares.split(",")]
    except ValueError:
        parser.error(f"--shares takes comma-separated numbers, not {args.shares!r}")
    if not shares or min(shares) <= 0:
        parser.error(f"--shares must be positive shares of the best's FLOPs: {args.shares!r}")
    pools = stored_pools(args.sources)
    if args.exclude:
        pools = without(pools, set().union(*(held_ids(s) for s in args.exclude)))
        if not pools.items:
            raise SystemExit(f"--exclude leaves no items: {', '.join(args.exclude)} hold them all")
    router = router_file(args.router, pools) if args.router else None
    default_pace = args.pace == DATA / "pace.json"
    if args.pace.is_file() or not default_pace:
        try:
            pools = pools.paced(read_paces(args.pace))
        except DataError as exc:
            if not default_pace:
                raise SystemExit(f"--pace {args.pace}: {exc}") from None
            print(f"wall seconds left out: {args.pace}: {exc}", file=sys.stderr)
    suites = sorted({item.suite for item in pools.items.values()})
    tiers = " < ".join(t.short for t in pools.tiers)
    print(f"{len(pools.items)} items ({', '.join(suites)}); tiers: {tiers}")
    start = time.perf_counter()
    progress(f"replaying the fixed strategies ({args.reps} draws)", start)
    fixed = [p for p in fixed_points(pools, reps=args.reps) if keep(p.name)]
    best = best_point(fixed)
    ladders = {f"auto[{len(pools.tiers)} tiers]": pools}
    if len(pools.tiers) > 2:
        top_two = [t.model for t in pools.tiers[-2:]]
        ladders = {"auto[2 tiers]": pools.reorder(top_two), **ladders}
    direct = next(p for p in fixed if p.name == f"cot@{pools.tiers[0].short}")
    files: list[Point] = []  # the router file's, at each budget
    for share in shares if router else ():
        name = f"{args.router.stem}@{share:.0%}"
        files.append(file_point(router, pools, share * best.flops, args.reps, name))
        progress(f"{name}: {100 * files[-1].accuracy:.1f}% on {len(pools.items)} items", start)
    autos = list(files)
    if args.probe:  # the probe in the points' names: auto+pot@1[2 tiers]
        ladders = {k.replace("auto", f"auto+{args.probe}"): v for k, v in ladders.items()}
    for label, ladder in ladders.items() if not args.no_cv else ():
        first = next(p for p in fixed if p.name == f"cot@{ladder.tiers[0].short}")
        for share in shares:
            budget = share * best.flops / first.flops  # programs cost less than direct
            point = router_point(
                ladder, budget, args.folds, args.reps, name=f"{label}@{share:.0%}",
                repeats=args.cv_repeats, unit="flops", l2=ridge(args.l2),
                probe=probe_for(args.probe, len(pools.tiers), len(ladder.tiers)),
                text=not args.probe_only,
            )  # fmt: skip
            autos.append(point)
            progress(
                f"{point.name}: {100 * point.accuracy:.1f}% at "
                f"{100 * point.flops / best.flops:.0f}% of the best's FLOPs",
                start,
            )
    largest = pools.tiers[-1].short
    progress("tables per data set", start)
    for suite in suites:
        mine = only(pools, suite)
        points = [p for p in fixed_points(mine, reps=args.reps) if keep(p.name)]
        routed = [as_suite(a, suite) for a in autos]
        suite_best = best_point(points)
        front = pareto(points, "flops")
        print(
            f"\n{suite}: {len(mine.items)} items; accuracy % [95% interval], TFLOPs, tokens "
            "and wall seconds per question (at the tiers' paces), FLOPs as a share of the "
            "best fixed strategy's (* frontier)"
        )
        for p in sorted(points, key=lambda p: p.flops):
            print(row(p, suite_best, front))
        for a in routed:
            print(row(a, suite_best, front))
        greedy = next((p for p in points if p.name == f"cot@{largest}"), None)
        for a in routed:
            print("\n".join(verdicts(a, suite_best, greedy, suite)))
        if args.plot_dir:
            out = Path(args.plot_dir)
            out.mkdir(parents=True, exist_ok=True)
            path = plot_accuracy_vs_cost(
                points, routed, out / f"ladder-{suite}.png",
                title=f"{suite}: accuracy vs FLOPs per question ({len(mine.items)} items)",
                axes=[FLOPS_AXIS],
            )  # fmt: skip
            print(f"  plot: {path}")
    print(f"\nall items: best fixed {best.name} {100 * best.accuracy:.1f}%; direct {direct.name}")
    for a in autos:
        print("\n".join(verdicts(a, best, None, "all")))
        if any(a is f for f in files):  # what the router file picked
            picks = Counter(a.extra["plans"]).most_common()
            print(f"  {a.name} picked: " + ", ".join(f"{n} x{c}" for n, c in picks))
    print("\n".join(targets(autos, best)))


if __name__ == "__main__":
    try:
        main()
    except (DataError, ConfigError) as exc:  # what the stored runs cannot support, in a line
        sys.exit(f"ladder.py: {exc}")
