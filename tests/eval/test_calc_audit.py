"""calc's confusion on stored samples: false alarms and misses per model (issue 26)."""

from __future__ import annotations

import math
from typing import Any

from ponder.eval.calc_audit import calc_confusion


def record(model: str, item_id: str, gold: str, texts: list[tuple[str, str]], **extra: Any) -> dict:
    samples = [{"text": t, "request_id": "r", "answer": a, "temperature": 0.7} for t, a in texts]
    item = {"id": item_id, "question": "Ana has 12 pens and buys 5.", "answer": gold}
    return {"item": item, "model": model, "strategy": "sample:n=4", "samples": samples, **extra}


def test_counts_false_alarms_and_misses_per_model() -> None:
    texts = [
        ("12 + 5 = 17\nAnswer: 17", "17"),  # right, passed
        ("12 + 5 = 18\nAnswer: 17", "17"),  # right, flagged: a false alarm
        ("12 + 5 = 18\nAnswer: 18", "18"),  # wrong, flagged
        ("12 + 5 = 17, so 18.\nAnswer: 18", "18"),  # wrong, passed: a miss
        ("I guess 19.\nAnswer: 19", "19"),  # wrong, unchecked: also a miss
    ]
    records = [
        record("a", "q1", "17", texts),
        record("b", "q1", "17", texts[:1]),
        record("b", "q1", "17", texts[:2]),  # the larger pool of one item wins
        record("b", "q2", "17", texts, error="boom"),  # failed: left out
        record("b", "q3", "17", texts, strategy="sample:n=4,program=true"),  # programs
        record("b", "q4", "", texts),  # no gold answer
    ]
    a, b = calc_confusion(records)
    assert (a.model, a.items, a.samples, a.right, a.wrong) == ("a", 1, 5, 2, 3)
    assert (a.right_flagged, a.right_passed, a.wrong_flagged, a.wrong_passed) == (1, 1, 1, 2)
    assert (a.right_unchecked, a.wrong_unchecked) == (0, 1)
    assert a.false_alarm_rate == 0.5 and a.miss_rate == 2 / 3
    assert (b.model, b.items, b.right_flagged, b.right_passed, b.wrong) == ("b", 1, 1, 1, 0)
    assert math.isnan(b.miss_rate)


def test_splits_by_suite_and_takes_another_check() -> None:
    one = record("a", "q1", "17", [("12 + 5 = 17\nAnswer: 17", "17")])
    two = record("a", "q2", "17", [("12 + 5 = 17\nAnswer: 17", "17")])
    three = record("a", "q3", "17", [("12 + 5 = 17\nAnswer: 17", "17")])
    one["item"]["suite"], two["item"]["suite"] = "arith", "word"
    tables = calc_confusion([one, two, three], check=lambda text: False, by_suite=True)
    assert [(t.suite, t.items, t.right_flagged) for t in tables] == [
        ("-", 1, 1),  # an item of no suite (GSM8K's, SVAMP's)
        ("arith", 1, 1),
        ("word", 1, 1),
    ]
