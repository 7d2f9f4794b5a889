"""How often a completion budget cuts answers off, per model and suite, from stored samples.

A sample that finished (``stop``) after ``t`` completion tokens would have been cut by any
budget below ``t``; one that was cut at the run's own budget is cut by every budget up to
it. So one sampling run at a generous ``max_tokens`` gives the truncation rate of every
smaller budget, greedy and sampled apart:

    python benchmarks/budget.py runs/word-qwen runs/word-smol benchmarks/data/*.jsonl.gz

``--rule`` replays the default-budget rule (``ponder.budgets``) on the same samples: each
model's first budget, a cut sample that has not stated its answer resumed up to its
ceiling. It prints how many samples the rule leaves cut, how many of them lose their
answer (cut before a final-answer marker), the share of *complete* answers (samples
that finished in the run) it loses, how many it resumes, and the tokens per sample it
spends against drawing at the ceiling at once. ``--as-unlisted`` judges every model as
one the budget table does not name (first budget 256, resumed up to the ceiling):

    python benchmarks/budget.py --rule --as-unlisted runs/word-qwen15 runs/word-llama

A cell is ``-`` where the run's own budget hides the answer (a sample cut below the
ceiling). Whether a sample had stated its answer by a budget is read from its text up
to that budget's share of its tokens (the text is stored, not where each token ends).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ponder.answers import sample_answer
from ponder.budgets import ceiling_for, max_tokens_for
from ponder.eval.extend import stored_budget
from ponder.eval.runner import is_program
from ponder.eval.store import Record, read_records

BUDGETS = (128, 192, 256, 320, 384, 512, 640, 768)
UNLISTED = "a-model-the-table-does-not-name"


@dataclass(frozen=True)
class Drawn:
    """One stored sample: its length, whether it finished, its text and the run's budget."""

    tokens: int
    finished: bool
    text: str
    budget: int


@dataclass(frozen=True)
class Outcome:
    """What the rule makes of one sample; None where the run's budget hides it."""

    cut: bool | None
    lost: bool | None  # cut before stating its answer: it abstains
    resumed: bool
    tokens: int | None


def cut_at(tokens: int, finished: bool, budget: int) -> bool | None:
    """Whether ``budget`` would cut this sample; None when the run's own budget hides it."""
    if finished:
        return tokens > budget
    return True if budget <= tokens else None


def stated_within(drawn: Drawn, limit: int) -> bool:
    """True when the sample states its final answer within its first ``limit`` tokens."""
    share = min(limit / max(drawn.tokens, 1), 1.0)
    return sample_answer(drawn.text[: round(len(drawn.text) * share)], truncated=True) is not None


def under_rule(drawn: Drawn, first: int, ceiling: int) -> Outcome:
    """The sample drawn at ``first`` tokens and, cut there before stating its answer,
    resumed up to ``ceiling`` (as ``ponder.strategies.resume`` does)."""
    if drawn.finished and drawn.tokens <= first:
        return Outcome(False, False, False, drawn.tokens)
    if ceiling <= first or stated_within(drawn, first):
        return Outcome(True, not stated_within(drawn, first), False, first)
    if drawn.finished and drawn.tokens <= ceiling:
        return Outcome(False, False, True, drawn.tokens)
    if not drawn.finished and drawn.budget < ceiling:
        return Outcome(None, None, True, None)
    return Outcome(True, not stated_within(drawn, ceiling), True, ceiling)


def collect(sources: Iterable[str]) -> dict[tuple[str, str, str], list[Drawn]]:
    """Stored samples per (model, suite, draw), sampling-mode records only."""
    drawn: dict[tuple[str, str, str], list[Drawn]] = defaultdict(list)
    for source in sources:
        for record in map(Record.from_dict, read_records(source)):
            spec = record.strategy
            if record.error or not spec.startswith("sample"):
                continue
            suite = str(record.item.get("suite") or "data")
            budget = stored_budget(record)
            for s in record.to_samples():
                kind = "greedy" if s.temperature == 0.0 else "sampled"
                kind += "+program" if is_program(spec) else ""
                finished = s.finish_reason != "length"
                sample = Drawn(s.completion_tokens, finished, s.text, budget)
                drawn[(record.model_label, suite, kind)].append(sample)
    return drawn


def _pct(part: float, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "     -"


def budget_table(drawn: dict[tuple[str, str, str], list[Drawn]]) -> None:
    head = f"{'model':28s} {'suite':8s} {'draw':8s} {'n':>5s} "
    print(head + " ".join(f"{b:>6d}" for b in BUDGETS))
    for (model, suite, kind), rows in sorted(drawn.items()):
        cells = []
        for budget in BUDGETS:
            seen = [
                c for c in (cut_at(d.tokens, d.finished, budget) for d in rows) if c is not None
            ]
            cells.append(_pct(sum(seen), len(rows)) if len(seen) == len(rows) else "     -")
        name = model.rsplit("/", 1)[-1]
        print(f"{name:28s} {suite:8s} {kind:8s} {len(rows):5d} " + " ".join(cells))
    print("\n% of samples cut off at each max_tokens ('-': above the run's own budget)")


def rule_row(rows: Sequence[Drawn], first: int, ceiling: int) -> list[str]:
    """The rule's cells for one group: cut, lost, complete lost, resumed, tokens/sample
    under the rule and at the ceiling at once."""
    outcomes = [under_rule(d, first, ceiling) for d in rows]
    if any(o.cut is None for o in outcomes):
        resumed = sum(o.resumed for o in outcomes)
        return ["-", "-", "-", _pct(resumed, len(rows)), "-", "-"]
    complete = [o for d, o in zip(rows, outcomes, strict=True) if d.finished]
    spent = sum(o.tokens or 0 for o in outcomes) / len(rows)
    at_once = sum(min(d.tokens, ceiling) for d in rows) / len(rows)
    return [
        _pct(sum(bool(o.cut) for o in outcomes), len(rows)),
        _pct(sum(bool(o.lost) for o in outcomes), len(rows)),
        _pct(sum(bool(o.lost) for o in complete), len(complete)),
        _pct(sum(o.resumed for o in outcomes), len(rows)),
        f"{spent:6.0f}",
        f"{at_once:6.0f}",
    ]


def rule_table(drawn: dict[tuple[str, str, str], list[Drawn]], as_unlisted: bool = False) -> None:
    heads = ("first", "ceil", "cut", "lost", "c.lost", "resumed", "tok/s", "at-once")
    print(
        f"{'model':28s} {'suite':8s} {'draw':15s} {'n':>5s} " + " ".join(f"{h:>7s}" for h in heads)
    )
    for (model, suite, kind), rows in sorted(drawn.items()):
        judged = UNLISTED if as_unlisted else model
        first = max_tokens_for(judged, None, step_by_step="program" not in kind)
        ceiling = ceiling_for(judged) or first
        cells = [
            f"{first:7d}",
            f"{ceiling:7d}",
            *(f"{c:>7s}" for c in rule_row(rows, first, ceiling)),
        ]
        name = model.rsplit("/", 1)[-1]
        print(f"{name:28s} {suite:8s} {kind:15s} {len(rows):5d} " + " ".join(cells))
    print(
        "\nUnder the default-budget rule: % of samples left cut, % lost (cut before stating "
        "an answer),\n% of complete answers lost (c.lost), % resumed, and mean completion "
        "tokens per sample\nunder the rule (tok/s) against drawing at the ceiling at once."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", nargs="+", help="run dirs or .jsonl[.gz] record files")
    parser.add_argument("--rule", action="store_true", help="replay the default-budget rule")
    parser.add_argument(
        "--as-unlisted",
        action="store_true",
        help="judge every model as one the budget table does not name",
    )
    args = parser.parse_args(argv)
    drawn = collect(args.sources)
    if args.rule:
        rule_table(drawn, args.as_unlisted)
    else:
        budget_table(drawn)


if __name__ == "__main__":
    main()
