import pytest

from ponder.errors import DataError
from ponder.eval.store import SampleStore, open_store


def record(item_id, error=None, strategy="direct", value=0):
    return {
        "item": {"id": item_id},
        "model": "m",
        "strategy": strategy,
        "error": error,
        "value": value,
    }


def test_append_and_read_back_latest_wins(tmp_path):
    store = SampleStore(tmp_path / "run")
    store.append(record("a", error="boom"))
    store.append(record("b"))
    store.append(record("a", value=2))
    records = store.records()
    assert [r["item"]["id"] for r in records] == ["a", "b"]
    assert records[0]["value"] == 2
    assert store.finished() == {("a", "m", "direct"), ("b", "m", "direct")}


def test_failed_items_are_not_finished(tmp_path):
    store = SampleStore(tmp_path)
    store.append(record("a", error="BackendError: down"))
    assert store.finished() == set()


def test_a_line_cut_off_by_a_crash_is_skipped_then_cut_away(tmp_path):
    store = SampleStore(tmp_path)
    store.append(record("a"))
    with store.path.open("a") as out:
        out.write('{"item": {"id": "b"}, "mod')
    assert [r["item"]["id"] for r in store.records()] == ["a"]
    store.append(record("c"))  # the torn line is cut away first: "c" starts its own line
    assert [r["item"]["id"] for r in store.records()] == ["a", "c"]
    assert store.path.read_text().count("\n") == 2


def test_corrupt_middle_line_is_an_error(tmp_path):
    store = SampleStore(tmp_path)
    store.path.write_text('{"x": 1}\n' + '{"item": {"id": "a"}, "model": "m", "strategy": "s"}\n')
    with pytest.raises(DataError, match=r"records.jsonl:1"):
        store.records()


def test_meta_and_open_store(tmp_path):
    store = SampleStore(tmp_path / "r")
    assert store.read_meta() == {}
    store.write_meta({"model": "m"})
    assert store.read_meta() == {"model": "m"}
    with pytest.raises(DataError, match="ponder eval run"):
        open_store(tmp_path / "r")
    store.append(record("a"))
    assert open_store(tmp_path / "r").records()


def test_compact_export_keeps_mean_logprob(tmp_path):
    from ponder.eval.store import compact, read_records, write_records
    from ponder.types import Sample

    sample = Sample("t", "r", completion_tokens=3, token_logprobs=[-1.0, -2.0, -3.0])
    rec = {**record("a"), "samples": [sample.to_dict()], "trace": [1]}
    small = compact(rec)
    assert Sample.from_dict(small["samples"][0]).mean_logprob == sample.mean_logprob
    assert "trace" not in small and rec["samples"][0]["token_logprobs"] == [-1.0, -2.0, -3.0]
    for name in ("r.jsonl", "r.jsonl.gz"):
        write_records([small], tmp_path / name)
        assert read_records(tmp_path / name) == [small]
    (tmp_path / "bad.jsonl").write_text("{x\n")
    with pytest.raises(DataError, match="not JSON"):
        read_records(tmp_path / "bad.jsonl")
    with pytest.raises(DataError, match="cannot read records"):
        read_records(tmp_path / "none.jsonl")


def test_a_crash_while_writing_run_json_keeps_the_old_settings(tmp_path, monkeypatch):
    store = SampleStore(tmp_path)
    store.write_meta({"model": "m", "strategy": "direct"})
    real = type(tmp_path).write_text

    def crash(self, data, *args, **kwargs):  # the file is opened (truncated), then the run dies
        real(self, "", *args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(type(tmp_path), "write_text", crash)
    with pytest.raises(KeyboardInterrupt):
        store.write_meta({"model": "m", "strategy": "sc:n=8"})
    monkeypatch.undo()
    assert store.read_meta() == {"model": "m", "strategy": "direct"}
