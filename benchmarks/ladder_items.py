"""Copy the ladder's reproducible subsets of the real word problems into benchmarks/data.

The rule: from each data set in ``../shared/data`` take the ``--per-set`` items whose
sha256 of ``id`` sorts first (stable across Python versions and file order). The licence
notices travel with the copies. Run from the repository root:

    python benchmarks/ladder_items.py --per-set 64
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

SETS = {"gsm8k-train": "LICENSE-gsm8k", "svamp": "LICENSE-svamp"}


def subset(lines: list[str], per_set: int) -> list[str]:
    """The ``per_set`` lines whose id hashes lowest, in that order."""

    def key(line: str) -> str:
        return hashlib.sha256(json.loads(line)["id"].encode()).hexdigest()

    return sorted((line for line in lines if line.strip()), key=key)[:per_set]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/ladder"))
    parser.add_argument("--per-set", type=int, default=64)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, licence in SETS.items():
        lines = (args.source / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        chosen = subset(lines, args.per_set)
        (args.out / f"{name}-{args.per_set}.jsonl").write_text(
            "\n".join(chosen) + "\n", encoding="utf-8"
        )
        shutil.copyfile(args.source / licence, args.out / licence)
        print(f"{name}: {len(chosen)} of {len(lines)} items -> {args.out}")


if __name__ == "__main__":
    main()
