"""How often a completion budget cuts answers off, per model and suite, from stored samples.

A sample that finished (``stop``) after ``t`` completion tokens would have been cut by any
budget below ``t``; one that was cut at the run's own budget is cut by every budget up to
it. So one sampling run at a generous ``max_tokens`` gives the truncation rate of every
smaller budget, greedy and sampled apart:

    python benchmarks/budget.py runs/word-qwen runs/word-smol benchmarks/data/*.jsonl.gz
"""

from __future__ import annotations

import argparse
from collections import defaultdict

from ponder.eval.store import read_records

BUDGETS = (128, 192, 256, 320, 384, 512, 640, 768)


def cut_at(tokens: int, finished: bool, budget: int) -> bool | None:
    """Whether ``budget`` would cut this sample; None when the run's own budget hides it."""
    if finished:
        return tokens > budget
    return True if budget <= tokens else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", help="run dirs or .jsonl[.gz] record files")
    args = parser.parse_args()
    lengths: dict[tuple[str, str, str], list[tuple[int, bool]]] = defaultdict(list)
    for source in args.sources:
        for record in read_records(source):
            if record.get("error") or not str(record.get("strategy", "")).startswith("sample"):
                continue
            model = str(record.get("model_name") or record["model"]).rsplit("/", 1)[-1]
            suite = str(record["item"].get("suite") or "data")
            for s in record.get("samples") or []:
                kind = "greedy" if s.get("temperature", 0.0) == 0.0 else "sampled"
                finished = s.get("finish_reason") != "length"
                lengths[(model, suite, kind)].append((int(s["completion_tokens"]), finished))
    print(
        f"{'model':28s} {'suite':8s} {'draw':8s} {'n':>5s} " + " ".join(f"{b:>6d}" for b in BUDGETS)
    )
    for (model, suite, kind), rows in sorted(lengths.items()):
        cells = []
        for budget in BUDGETS:
            seen = [c for c in (cut_at(t, f, budget) for t, f in rows) if c is not None]
            cells.append(
                f"{100 * sum(seen) / len(rows):5.1f}%" if len(seen) == len(rows) else "     -"
            )
        print(f"{model:28s} {suite:8s} {kind:8s} {len(rows):5d} " + " ".join(cells))
    print("\n% of samples cut off at each max_tokens ('-': above the run's own budget)")


if __name__ == "__main__":
    main()
