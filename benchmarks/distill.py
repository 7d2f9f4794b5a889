"""Distillation before/after: base student, distilled student and teacher on held-out items.

Each run is a sampling-mode store (``ponder eval run -s sample:n=8``: one greedy sample
plus samples at T=0.7) over the same held-out items. For each model and suite it prints
greedy accuracy and majority-of-k (k of the stored samples drawn at random, averaged
over draws; ties to the surer answer, as everywhere in ponder) with bootstrap 95%
intervals over items, and completion tokens per item, then the student's gain over the
base in points, averaged over the suites (issue 13's target: at least +15 points greedy at
unchanged inference cost). With ``--rows`` it first checks that no held-out item is in
the training rows, by id and by question text. ``--plot`` draws accuracy against tokens.

    python benchmarks/distill.py --base runs/eval-base --student runs/eval-student \
        --teacher runs/eval-teacher --rows runs/rows.jsonl --train runs/student \
        --plot benchmarks/data/distill/before-after.png
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ponder.answers import answers_match
from ponder.distill.data import normalized_text
from ponder.distill.generate import held_out_keys
from ponder.eval.store import Record, read_records
from ponder.types import Sample
from ponder.voting import tally, winner

Pool = tuple[dict[str, Any], Sample, list[Sample]]  # item, greedy, samples


def pools(path: str) -> dict[str, Pool]:
    """Sampling-mode records by item id (the record with the most samples wins)."""
    out: dict[str, Pool] = {}
    for record in map(Record.from_dict, read_records(path)):
        if record.error or not record.strategy.startswith("sample"):
            continue
        samples = record.to_samples()
        item = record.item
        if item["id"] not in out or len(samples) - 1 > len(out[item["id"]][2]):
            out[item["id"]] = (item, samples[0], samples[1:])
    if not out:
        sys.exit(f"{path}: no sampling-mode records")
    return out


def right(item: dict[str, Any], answer: str | None) -> float:
    return float(answers_match(answer, item["answer"], item.get("kind") or "auto"))


def majority(item: dict[str, Any], samples: list[Sample], k: int, draws: int, seed: int) -> float:
    if len(samples) < k:
        sys.exit(f"{item['id']}: {len(samples)} samples stored, majority-of-{k} needs {k}")
    rng = random.Random(f"{seed}:{item['id']}")
    hits = 0.0
    for _ in range(draws):
        chosen = rng.sample(samples, k)
        hits += right(item, winner(tally(chosen), chosen))
    return hits / draws


def interval(values: list[float], reps: int, seed: int) -> tuple[float, float, float]:
    data = np.array(values)
    rng = np.random.default_rng(seed)
    means = [data[rng.integers(0, len(data), len(data))].mean() for _ in range(reps)]
    return float(data.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def score(pool: dict[str, Pool], ids: list[str], k: int, args: argparse.Namespace) -> dict:
    greedy = [right(pool[i][0], pool[i][1].answer) for i in ids]
    vote = [majority(pool[i][0], pool[i][2], k, args.draws, args.seed) for i in ids]
    greedy_tokens = float(np.mean([pool[i][1].completion_tokens for i in ids]))
    sample_tokens = float(
        np.mean([np.mean([s.completion_tokens for s in pool[i][2]]) for i in ids])
    )
    return {
        "greedy": interval(greedy, args.reps, args.seed),
        "vote": interval(vote, args.reps, args.seed),
        "greedy_tokens": greedy_tokens,
        "vote_tokens": k * sample_tokens,
        "truncated": float(np.mean([pool[i][1].truncated for i in ids])),
    }


def paired_gain(runs: dict[str, dict[str, Pool]], suites: dict[str, list[str]],
                args: argparse.Namespace) -> str:  # fmt: skip
    """The suite-averaged greedy gain with a 95% bootstrap interval, items resampled
    within each suite and paired (the same items for both models)."""
    diffs = {
        s: np.array([right(runs["student"][i][0], runs["student"][i][1].answer)
                     - right(runs["base"][i][0], runs["base"][i][1].answer) for i in ids])
        for s, ids in suites.items()
    }  # fmt: skip
    rng = np.random.default_rng(args.seed)
    draws = [
        np.mean([d[rng.integers(0, len(d), len(d))].mean() for d in diffs.values()])
        for _ in range(args.reps)
    ]
    mean = np.mean([d.mean() for d in diffs.values()])
    low, high = np.percentile(draws, [2.5, 97.5])
    return f"{100 * mean:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}]"


def fmt(value: tuple[float, float, float]) -> str:
    mean, low, high = value
    return f"{100 * mean:5.1f} [{100 * low:4.1f}, {100 * high:5.1f}]"


def check_overlap(rows: str, items: dict[str, dict[str, Any]]) -> None:
    ids, texts = held_out_keys([rows])
    by_id = [i for i in items if i in ids]
    by_text = [i for i, item in items.items() if normalized_text(item["question"]) in texts]
    print(f"held-out check against {rows}: {len(by_id)} items share an id, {len(by_text)} a text")
    if by_id or by_text:
        sys.exit("the training rows contain held-out items: " + ", ".join((by_id + by_text)[:5]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--student", required=True)
    parser.add_argument("--teacher", default=None)
    parser.add_argument("--rows", default=None, help="the training rows (overlap check)")
    parser.add_argument("--train", default=None, help="the training run (its cost)")
    parser.add_argument("-k", type=int, default=8, help="samples per majority vote")
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=None)
    args = parser.parse_args()
    runs = {"base": pools(args.base), "student": pools(args.student)}
    if args.teacher:
        runs["teacher"] = pools(args.teacher)
    shared = sorted(set.intersection(*(set(p) for p in runs.values())))
    items = {i: runs["base"][i][0] for i in shared}
    print(f"{len(shared)} items held by every run")
    if args.rows:
        check_overlap(args.rows, items)
    suites: dict[str, list[str]] = defaultdict(list)
    for i in shared:
        suites[items[i].get("suite") or "all"].append(i)
    results = {name: {s: score(p, ids, args.k, args) for s, ids in suites.items()}
               for name, p in runs.items()}  # fmt: skip
    vote, tokens = f"maj@{args.k} %", f"tok maj@{args.k}"
    print(f"\n{'model':8s} {'suite':8s} {'items':>5s} {'greedy % [95% CI]':>22s} "
          f"{vote:>22s} {'tok greedy':>10s} {tokens:>10s} {'cut':>5s}")  # fmt: skip
    for name, per_suite in results.items():
        for suite, r in per_suite.items():
            print(f"{name:8s} {suite:8s} {len(suites[suite]):5d} {fmt(r['greedy']):>22s} "
                  f"{fmt(r['vote']):>22s} {r['greedy_tokens']:10.0f} {r['vote_tokens']:10.0f} "
                  f"{100 * r['truncated']:4.0f}%")  # fmt: skip
    mean = {
        name: {key: float(np.mean([r[key][0] for r in per.values()])) for key in ("greedy", "vote")}
        for name, per in results.items()
    }
    print("\naveraged over the suites (each suite weighs the same):")
    for name, m in mean.items():
        print(f"  {name:8s} greedy {100 * m['greedy']:5.1f}   maj@{args.k} {100 * m['vote']:5.1f}")
    gain = 100 * (mean["student"]["greedy"] - mean["base"]["greedy"])
    tokens = [
        np.mean([results[n][s]["greedy_tokens"] for s in suites]) for n in ("base", "student")
    ]
    print(
        f"student - base, greedy: {gain:+.1f} points (target +15); greedy tokens per item "
        f"{tokens[0]:.0f} -> {tokens[1]:.0f} ({tokens[0] / tokens[1]:.2f}x fewer; same model "
        "size, so the same cost per token)"
    )
    print(f"student - base, greedy, paired over items: {paired_gain(runs, suites, args)}")
    if args.train:
        train_file = Path(args.train)
        train_file = train_file / "train.json" if train_file.is_dir() else train_file
        summary = json.loads(train_file.read_text())
        print(f"training: {summary['train_rows']} rows, {summary['steps']} steps, "
              f"{summary['tokens']} tokens ({summary['target_tokens']} trained on), "
              f"{summary['wall_s'] / 60:.1f} min wall; validation loss "
              f"{summary['val_loss_before']:.3f} -> {summary['val_loss_after']:.3f}")  # fmt: skip
    if args.plot:
        plot(results, suites, args)


def plot(results: dict, suites: dict[str, list[str]], args: argparse.Namespace) -> None:
    from ponder.eval.plots import pyplot

    plt = pyplot()
    colours = {"base": "#7f7f7f", "student": "#2ca02c", "teacher": "#1f77b4"}
    fig, ax = plt.subplots(figsize=(7, 4.5))
    total = sum(len(v) for v in suites.values())
    for name, per in results.items():
        for key, marker, label in (("greedy", "o", "greedy"), ("vote", "s", f"maj@{args.k}")):
            weights = {s: len(ids) / total for s, ids in suites.items()}
            acc = sum(weights[s] * per[s][key][0] for s in per)
            low = sum(weights[s] * per[s][key][1] for s in per)
            high = sum(weights[s] * per[s][key][2] for s in per)
            cost = sum(weights[s] * per[s][f"{key}_tokens"] for s in per)
            ax.errorbar([cost], [100 * acc], yerr=[[100 * (acc - low)], [100 * (high - acc)]],
                        fmt=marker, color=colours.get(name, "k"), capsize=3,
                        label=f"{name} {label}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("completion tokens per question (log)")
    ax.set_ylabel("accuracy on held-out items (%)")
    ax.set_title("distillation: SmolLM2-135M before and after, teacher qwen2.5-coder-0.5b")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.plot, dpi=110)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
