"""Copy the ladder's reproducible subsets of the real word problems into benchmarks/data.

The rule: from each data set in ``../shared/data`` take the ``--per-set`` items whose
sha256 of ``id`` sorts first (stable across Python versions and file order). The licence
notices travel with the copies. Run from the repository root:

    python benchmarks/ladder_items.py --per-set 64

``--skip K`` takes the ``--per-set`` items after the first K instead, into
``NAME-{K+1}-{K+per_set}.jsonl`` (fresh items for a held-out check: the first 96 are the
ladder's pools, the next 40 of each set ``peers.py``'s questions).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

SETS = {"gsm8k-train": "LICENSE-gsm8k", "svamp": "LICENSE-svamp"}


def subset(lines: list[str], per_set: int, skip: int = 0) -> list[str]:
    """The ``per_set`` lines whose id hashes lowest after the first ``skip``, in that
    order."""

    def key(line: str) -> str:
        return hashlib.sha256(json.loads(line)["id"].encode()).hexdigest()

    return sorted((line for line in lines if line.strip()), key=key)[skip : skip + per_set]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/ladder"))
    parser.add_argument("--per-set", type=int, default=64)
    parser.add_argument("--skip", type=int, default=0, help="items passed over first")
    args = parser.parse_args()
    if args.per_set < 1 or args.skip < 0:
        parser.error("--per-set must be 1 or more and --skip 0 or more")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, licence in SETS.items():
        lines = (args.source / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        chosen = subset(lines, args.per_set, args.skip)
        span = f"{args.skip + 1}-{args.skip + args.per_set}" if args.skip else f"{args.per_set}"
        (args.out / f"{name}-{span}.jsonl").write_text("\n".join(chosen) + "\n", encoding="utf-8")
        shutil.copyfile(args.source / licence, args.out / licence)
        print(f"{name}: {len(chosen)} of {len(lines)} items -> {args.out}")


if __name__ == "__main__":
    main()
