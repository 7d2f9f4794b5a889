"""Which teacher paths become training rows: filters, dedup, cap, held-out, the CLI."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.distill.batches import read_rows
from ponder.distill.data import RowOptions, keep_paths
from ponder.distill.generate import build_rows, held_out_keys
from ponder.errors import ConfigError, DataError
from ponder.eval.datasets import Item
from ponder.types import Sample

ITEM = Item(id="q1", question="What is 2 + 3?", answer="5", kind="number")
NO_GOLD = Item(id="q2", question="What is 4 + 4?", answer="", kind="number")


def sample(text: str, answer: str | None, finish: str = "stop", t: float = 0.7) -> Sample:
    return Sample(text=text, request_id="r", answer=answer, finish_reason=finish, temperature=t)


def paths(item: Item, samples: list[Sample], **options: object) -> list[str]:
    kept = keep_paths(item, samples, RowOptions(**options))  # type: ignore[arg-type]
    return [s.text for _, s, _ in kept]


def test_gold_keeps_only_right_complete_paths() -> None:
    samples = [
        sample("2 + 3 = 5\nAnswer: 5", "5", t=0.0),
        sample("2 + 3 = 6\nAnswer: 6", "6"),
        sample("Let me think: 2 plus 3 is 5, so\nAnswer: 5", "5", finish="length"),  # cut off
        sample("Adding three to two gives five.\nAnswer: 5", "5"),
        sample("", None),
    ]
    assert paths(ITEM, samples) == [samples[0].text, samples[3].text]


def test_agreement_labels_without_gold_and_respects_the_threshold() -> None:
    wrong = [sample(f"4 + 4 = 9, step {k}\nAnswer: 9", "9") for k in range(3)]
    right = [sample("4 + 4 = 8\nAnswer: 8", "8"), sample("Eight.\nAnswer: 8", "8")]
    # the vote is 9 with 3 of 5 (0.6): agreement keeps the vote's paths, right or not
    assert paths(NO_GOLD, right + wrong, min_agreement=0.5, dedup=1.0) == [w.text for w in wrong]
    assert paths(NO_GOLD, right + wrong, min_agreement=0.5) == [wrong[0].text]  # near-copies
    assert paths(NO_GOLD, right + wrong, min_agreement=0.7) == []
    assert paths(NO_GOLD, wrong + right[:1], min_agreement=0.7, dedup=1.0) == [
        w.text for w in wrong
    ]
    with pytest.raises(ConfigError, match="no gold answer"):
        paths(NO_GOLD, right, filter="gold")


def test_near_duplicates_and_the_cap() -> None:
    base = "First 2 + 3 = 5. So the total is 5.\nAnswer: 5"
    samples = [
        sample(base, "5"),
        sample(base.replace("First", "first "), "5"),  # the same path, other spacing/case
        sample(base.replace("So the total is 5.", "That makes five in all."), "5"),
        sample("Two and three make five.\nAnswer: 5", "5"),
        sample("5 = 3 + 2 by counting up from three: 4, 5.\nAnswer: 5", "5"),
    ]
    exact = paths(ITEM, samples, dedup=1.0, per_question=10)
    assert exact == [s.text for k, s in enumerate(samples) if k != 1]  # equal once normalised
    deduped = paths(ITEM, samples, dedup=0.7, per_question=10)
    assert deduped == [samples[0].text, samples[3].text, samples[4].text]
    assert paths(ITEM, samples, dedup=0.7, per_question=2) == deduped[:2]


def record(item: Item, samples: list[Sample], strategy: str = "sample:n=4", **extra: object):
    return {
        "item": item.to_dict(),
        "model": "scripted:teacher",
        "strategy": strategy,
        "error": None,
        "samples": [s.to_dict() for s in samples],
        **extra,
    }


def test_rows_carry_provenance_and_skip_held_out_questions(tmp_path: Path) -> None:
    held = tmp_path / "test.jsonl"
    other = Item(id="test-7", question="  what is 2 + 3? ", answer="5")  # same text, other id
    held.write_text(json.dumps(other.to_dict()) + "\n")
    twin = Item(id="q9", question="What is 9 - 1?", answer="8")
    records = [
        record(ITEM, [sample("2 + 3 = 5\nAnswer: 5", "5")]),
        record(twin, [sample("9 - 1 = 8\nAnswer: 8", "8", t=0.0), sample("No.\nAnswer: 7", "7")]),
    ]
    rows, seen = asyncio.run(build_rows(records, RowOptions(), held_out_keys([held])))
    assert (seen.items, seen.excluded, seen.rows, seen.questions) == (2, 1, 1, 1)
    (row,) = rows
    assert row["messages"][-1] == {"role": "assistant", "content": "9 - 1 = 8\nAnswer: 8"}
    assert row["prompt"] == row["messages"][:-1] and row["completion"] == row["messages"][-1:]
    assert "What is 9 - 1?" in row["prompt"][0]["content"]
    assert "step by step" in row["prompt"][0]["content"]  # the prompt the student will get
    meta = row["meta"]
    assert meta["id"] == "q9" and meta["teacher"] == "scripted:teacher"
    assert meta["votes"] == {"8": 1.0, "7": 1.0} and meta["gold"] == "8"
    assert meta["filter"] == "gold" and meta["sample"] == 0 and meta["temperature"] == 0.0


def test_a_strategy_record_labels_by_its_own_answer() -> None:
    texts = {"9\nAnswer: 9": "9", "9!\nAnswer: 9": "9", "8\nAnswer: 8": "8"}
    samples = [sample(text, answer) for text, answer in texts.items()]
    records = [record(NO_GOLD, samples, strategy="bon:n=3,scorer=calc", prediction="8")]
    rows, _ = asyncio.run(build_rows(records, RowOptions(filter="agree", min_agreement=0.0)))
    assert [r["meta"]["answer"] for r in rows] == ["8"]


def test_held_out_keys_read_runs_exports_and_rows(tmp_path: Path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"messages": [], "meta": {"id": "a", "question": "Q A"}}) + "\n")
    ids, texts = held_out_keys([rows, Path("benchmarks/data/samples-smollm2-135m.jsonl.gz")])
    assert "a" in ids and "q a" in texts and "arith-s0-l1-000" in ids
    with pytest.raises(ConfigError, match="not found"):
        held_out_keys([tmp_path / "nope.jsonl"])


def test_row_file_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "q"}]}\n')
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1: 'messages' must list"):
        read_rows(bad)
    bad.write_text("{oops\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:1: not valid JSON"):
        read_rows(bad)


def test_generate_cli_runs_the_teacher_resumably_and_writes_rows(tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    items = [
        {"id": "a", "question": "What is 2 + 3?", "answer": "5"},
        {"id": "b", "question": "What is 6 + 1?", "answer": "7"},
        {"id": "c", "question": "What is 1 + 1?"},  # no gold: agreement labels it
    ]
    data.write_text("".join(json.dumps(i) + "\n" for i in items))
    script = tmp_path / "teacher.json"
    script.write_text(
        json.dumps(
            {
                "2 + 3": [
                    "2 + 3 = 5\nAnswer: 5",
                    "It is 6.\nAnswer: 6",
                    "Two plus three: 5\nAnswer: 5",
                ],
                "6 + 1": ["6 + 1 = 8\nAnswer: 8"],
                "1 + 1": ["1 + 1 = 2\nAnswer: 2", "One and one, 2.\nAnswer: 2", "3\nAnswer: 3"],
            }
        )
    )
    out, to = tmp_path / "run", tmp_path / "rows.jsonl"
    args = ["distill", "generate", "--data", str(data), "-t", f"scripted:{script}"]
    args += ["-s", "sample:n=3", "--out", str(out), "--to", str(to), "--dedup", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "4 rows from 2 of 3 items" in result.output and "2 near-duplicates" in result.output
    rows = read_rows(to)
    by_id: dict[str, list[str]] = {}
    for row in rows:
        by_id.setdefault(row["meta"]["id"], []).append(row["meta"]["answer"])
    # a: greedy + the other right path (its repeat dropped); b: none right; c: the vote's
    assert by_id == {"a": ["5", "5"], "c": ["2", "2"]}
    assert {r["meta"]["filter"] for r in rows} == {"gold", "agree"}
    again = CliRunner().invoke(cli, args)  # resumable: nothing re-run, same rows
    assert again.exit_code == 0 and "0 done" in again.output and read_rows(to) == rows
    nothing = CliRunner().invoke(cli, [*args[:-2], "--to", str(to), "--filter", "gold"])
    assert nothing.exit_code != 0 and "no gold answer" in nothing.output


def test_train_without_the_extra_names_the_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tmp_path / "rows.jsonl"
    message = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    rows.write_text(json.dumps({"messages": message}) + "\n")
    monkeypatch.setitem(sys.modules, "peft", None)  # as on an install without [distill]
    result = CliRunner().invoke(cli, ["distill", "train", str(rows), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "need peft" in result.output and "pip install 'ponder[distill]'" in result.output
    assert "Traceback" not in result.output
