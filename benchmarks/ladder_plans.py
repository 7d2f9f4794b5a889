"""Each plan of the shipped ladder router's catalogue, run on every stored ladder item
after the router's probe (the 1.5B's greedy program, paid for), as a fixed strategy:
its accuracy and its FLOPs as a share of the best fixed strategy's (the one
``ladder.py`` compares with). The frontier of these plans is the baseline a router has
to beat: choosing one plan per question must pay more than choosing one for all.

    python benchmarks/ladder_plans.py            # about 4 minutes on one core

By default it reads the stored ladder pools (``benchmarks/data/ladder``) and the shipped
ladder router; ``SOURCES`` (run dirs or record files) and ``--router FILE`` name others.
The plans run after the router's own probe (none for a router without one).

The plans' costs and accuracies are averaged over 8 replays per item (as router
training labels them); the best fixed strategy over 100. A plan and the best are chosen
on the same items they are scored on, which flatters both against ``auto``'s
cross-validated figures.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from ladder import router_file, stored_pools

from ponder.errors import ConfigError, DataError
from ponder.routing.compare import best_point, fixed_points
from ponder.routing.router_file import LADDER_FILE
from ponder.routing.training import label_items

ROUTERS = Path(__file__).parents[1] / "src" / "ponder" / "routing"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="*", help="run dirs or .jsonl[.gz] record files")
    parser.add_argument("--reps", type=int, default=8, help="replays per item and plan")
    parser.add_argument(
        "--router", type=Path, default=ROUTERS / LADDER_FILE, help="whose catalogue to run"
    )
    args = parser.parse_args()
    if args.reps < 1:
        parser.error("--reps must be 1 or more")
    start = time.time()
    try:
        stored = stored_pools(args.sources)
    except (ConfigError, DataError, OSError) as exc:
        raise SystemExit(f"ladder_plans.py: {exc}") from None
    router = router_file(args.router, stored)  # one-line errors for a file that does not fit
    pools = stored.reorder(router.tiers)
    plans = [m.plan for m in router.plans]
    probe = router.probe or False
    ids = sorted(pools.items)
    best = best_point(fixed_points(pools, reps=100), "flops")
    labels = label_items(pools, plans, ids, reps=args.reps, unit="flops", probed=probe)
    accuracy = labels.correct.mean(0) * 100
    share = labels.cost.mean(0) / best.flops * 100
    sets = np.array([pools.items[i].suite for i in ids])
    names = sorted(set(sets))
    print(
        f"{len(ids)} items, {len(plans)} plans after {router.probe or 'no probe'}; "
        f"best fixed strategy {best.name} {100 * best.accuracy:.1f}% at "
        f"{best.flops / 1e12:.2f} TFLOPs ({time.time() - start:.0f} s)"
    )
    print(f"{'plan (* on the frontier)':44s} {'acc %':>6s} {'FLOPs % of best':>16s}  per set")
    front = -1.0
    for j in np.argsort(share):
        mark = "*" if accuracy[j] > front else " "
        front = max(front, float(accuracy[j]))
        per = "  ".join(f"{n} {labels.correct[sets == n, j].mean() * 100:5.1f}" for n in names)
        print(f"{mark}{plans[j].name:43s} {accuracy[j]:6.1f} {share[j]:16.1f}  {per}")


if __name__ == "__main__":
    main()
