"""``Record``: what a stored line means; reading one and writing it again gives the same line."""

import asyncio
import gzip
import json
from pathlib import Path

import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.errors import DataError
from ponder.eval.runner import run_eval
from ponder.eval.store import Record, SampleStore, read_records
from ponder.eval.synthetic import synthetic_items, two_tier_backends

DATA = Path(__file__).parents[2] / "benchmarks" / "data"


def _line(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _stored_runs() -> list[Path]:
    runs = []
    for path in sorted(DATA.rglob("*.jsonl*")):
        with gzip.open(path, "rt") if path.suffix == ".gz" else path.open() as file:
            first = json.loads(file.readline() or "null")
        if isinstance(first, dict) and {"item", "model", "strategy"} <= set(first):
            runs.append(path)
    return runs


def test_the_shipped_runs_read_and_write_back_line_for_line():
    runs = _stored_runs()
    assert len(runs) >= 10  # eval, search, context and distill runs
    for path in runs:
        for data in read_records(path):
            assert _line(Record.from_dict(data).to_dict()) == _line(data), path


def test_a_run_written_now_reads_back_as_stored(tmp_path):
    items = synthetic_items(per_level=2, levels=(1,))
    small, _ = two_tier_backends(items)
    store = SampleStore(tmp_path)
    asyncio.run(run_eval(items, small, ["sample:n=2", "sc:n=2"], store))
    failing = ScriptedBackend(fail_first=9)
    asyncio.run(run_eval(items[:1], failing, ["direct"], SampleStore(tmp_path / "f")))
    lines = store.path.read_text().splitlines()
    lines += (tmp_path / "f" / "records.jsonl").read_text().splitlines()
    for line in lines:
        assert _line(Record.from_dict(json.loads(line)).to_dict()) == line
    failed = Record.from_dict(json.loads(lines[-1]))
    assert failed.error and "prediction" not in failed.to_dict()


def test_fields_are_typed_and_the_rest_kept_verbatim():
    data = {
        "item": {"id": 7, "question": "q"},
        "model": "embedded:m",
        "model_name": None,
        "strategy": "direct",
        "error": None,
        "prediction": None,
        "usage": {"samples": 1},
        "wall_s": 1,
        "mine": [1, 2],
    }
    record = Record.from_dict(data)
    assert record.key == ("7", "embedded:m", "direct") and record.model_label == "embedded:m"
    assert record.usage["samples"] == 1 and record.to_samples() == []
    assert record.model_extra == {"mine": [1, 2]}
    assert _line(record.to_dict()) == _line(data)  # nulls stay, 1 stays an int, "mine" kept


@pytest.mark.parametrize(
    "data",
    [{"item": {"id": "a"}, "strategy": "direct"}, {"model": "m", "strategy": 3}, ["not", "one"]],
)
def test_a_line_that_is_no_record_says_so(data):
    with pytest.raises(DataError, match="not a stored record"):
        Record.from_dict(data)
