"""How the calc verifier judges stored samples whose right answer is known (issue 26).

For every step-by-step sample of a stored pool, two facts: does ``calc`` flag it (some
equation it states is false) and is its final answer right (graded against the item's
gold). Per model, that is a confusion table: a **false alarm** is a right answer that
``calc`` flags, a **miss** a wrong answer it lets pass. A sample with no equation ``calc``
can check is neither flagged nor vouched for: it is counted apart (``unchecked``) and,
not being flagged, among the passed.

    from ponder.eval.calc_audit import calc_confusion
    from ponder.eval.store import read_records
    tables = calc_confusion(read_records("benchmarks/data/samples-qwen2.5-coder-0.5b.jsonl.gz"))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ponder.answers import answers_match
from ponder.eval.datasets import Item
from ponder.eval.runner import annotate_pool, is_program
from ponder.eval.store import Record
from ponder.strategies.calc import check_text
from ponder.types import Sample

__all__ = ["CalcConfusion", "calc_confusion"]

Check = Callable[[str], "bool | None"]
"""A sample's text -> False when it states a false equation, True when every one holds,
None when it states none (``ponder.strategies.calc.check_text``)."""


@dataclass
class CalcConfusion:
    """One model's samples, by (flagged or not) x (answer right or wrong)."""

    model: str
    suite: str = ""  # "" when the table covers every suite, "-" for items without one
    items: int = 0
    right_flagged: int = 0  # false alarms
    right_passed: int = 0
    wrong_flagged: int = 0
    wrong_passed: int = 0  # misses
    right_unchecked: int = 0  # of the passed: no equation to check
    wrong_unchecked: int = 0

    @property
    def samples(self) -> int:
        return self.right + self.wrong

    @property
    def right(self) -> int:
        return self.right_flagged + self.right_passed

    @property
    def wrong(self) -> int:
        return self.wrong_flagged + self.wrong_passed

    @property
    def false_alarm_rate(self) -> float:
        """Flagged among the samples whose answer is right."""
        return self.right_flagged / self.right if self.right else float("nan")

    @property
    def miss_rate(self) -> float:
        """Passed among the samples whose answer is wrong."""
        return self.wrong_passed / self.wrong if self.wrong else float("nan")

    def add(self, verdict: bool | None, right: bool) -> None:
        flagged = verdict is False
        if right:
            self.right_flagged += flagged
            self.right_passed += not flagged
            self.right_unchecked += verdict is None
        else:
            self.wrong_flagged += flagged
            self.wrong_passed += not flagged
            self.wrong_unchecked += verdict is None


def calc_confusion(
    records: Iterable[dict[str, Any]], check: Check = check_text, by_suite: bool = False
) -> list[CalcConfusion]:
    """Per model (and per suite with ``by_suite``), how ``check`` judges the step-by-step
    samples of sampling-mode records (greedy and sampled alike). Failed records, program
    samples and items without a gold answer are left out; of several records of one model
    for one item, the one with the most samples is used (as replay does)."""
    pools: dict[tuple[str, str], tuple[Item, list[Sample]]] = {}
    for record in map(Record.from_dict, records):
        spec = record.strategy
        if record.error or not spec.startswith("sample") or is_program(spec):
            continue
        item = Item.from_dict(record.item, record.item_id or "item", False)
        if not item.answer:
            continue
        samples = record.to_samples()
        key = (record.model, item.id)
        if key not in pools or len(samples) > len(pools[key][1]):
            pools[key] = (item, samples)
    out: dict[tuple[str, str], CalcConfusion] = {}
    for (model, _), (item, samples) in sorted(pools.items()):
        # stored before truncation was told apart: the cut ones are read again
        annotate_pool([s for s in samples if s.truncated], item, False)
        suite = (item.suite or "-") if by_suite else ""
        table = out.setdefault((model, suite), CalcConfusion(model, suite))
        table.items += 1
        for sample in samples:
            table.add(check(sample.text), answers_match(sample.answer, item.answer, item.kind))
    return [out[key] for key in sorted(out)]
