import json

import pytest

from ponder.errors import ConfigError, DataError
from ponder.eval.datasets import Item, gold_answer, load_jsonl, write_jsonl
from ponder.eval.suites import SUITES, get_suite, suite_items


def write_lines(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_jsonl_with_gsm8k_answers_and_defaults(tmp_path):
    path = write_lines(
        tmp_path / "d.jsonl",
        [
            {"question": "Q1?", "answer": "He has 3 + 4 = 7.\n#### 1,234"},
            {"question": "Q2?", "answer": 5, "id": "x", "difficulty": 2, "choices": ["A", "B"]},
            "",
        ],
    )
    items = load_jsonl(path)
    assert [i.answer for i in items] == ["1234", "5"]
    assert items[0].id == "d-1"
    assert items[1].id == "x" and items[1].difficulty == "2" and items[1].choices == ("A", "B")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "d.jsonl:1: not valid JSON"),
        ({"answer": "1"}, "'question' must be a non-empty string"),
        ({"question": "q", "answer": {"a": 1}}, "'answer' must be a string"),
        ({"question": "q", "answer": "1", "kind": "poem"}, "kind 'poem'"),
        ({"question": "q", "answer": "1", "choices": "AB"}, "'choices' must be a list"),
        ({"question": "q", "answer": ""}, "'answer' is empty"),
        ({"question": "q", "answer": "   "}, "'answer' is empty"),
        ({"question": "q", "answer": "#### "}, "'answer' is empty"),
        ({"question": "q", "answer": True}, "'answer' must be a string or a number"),
        ('{"question": "q", "answer": NaN}', "'answer' must be a finite number"),
        ({"question": "q", "answer": "abc", "kind": "number"}, "'answer' 'abc' is not a number"),
    ],
)
def test_jsonl_errors_name_the_line(tmp_path, row, message):
    path = write_lines(tmp_path / "d.jsonl", [row])
    with pytest.raises(DataError, match=message):
        load_jsonl(path)


def test_jsonl_duplicate_ids_missing_and_empty_files(tmp_path):
    dup = write_lines(tmp_path / "d.jsonl", [{"question": "a", "answer": 1, "id": "k"}] * 2)
    with pytest.raises(DataError, match="duplicate id 'k'"):
        load_jsonl(dup)
    with pytest.raises(DataError, match="cannot read dataset"):
        load_jsonl(tmp_path / "missing.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(DataError, match="holds no items"):
        load_jsonl(tmp_path / "empty.jsonl")


def test_write_then_load_round_trips(tmp_path):
    items = suite_items("count", per_level=2, seed=3)
    write_jsonl(items, tmp_path / "c.jsonl")
    assert load_jsonl(tmp_path / "c.jsonl") == items


def test_gold_answer_strips_gsm8k_marker():
    assert gold_answer("work\n#### 72") == "72"
    assert gold_answer("  B ") == "B"


def test_suites_are_deterministic_and_levelled():
    first = suite_items("all", per_level=3, seed=7)
    assert first == suite_items("all", per_level=3, seed=7)
    assert first != suite_items("all", per_level=3, seed=8)
    for name, suite in SUITES.items():
        items = [i for i in first if i.suite == name]
        assert {i.difficulty for i in items} == {str(lv) for lv in suite.levels}
        assert len(items) == 3 * len(suite.levels)
        assert len({i.id for i in items}) == len(items)
        if suite.kind == "number":
            assert all(i.answer.lstrip("-").isdigit() for i in items)


def test_suite_answers_are_right():
    for item in get_suite("arith").items(20, levels=[1]):
        a, b = item.question.removeprefix("What is ").removesuffix("?").split(" + ")
        assert int(item.answer) == int(a) + int(b)
    for item in get_suite("compare").items(20, levels=[2]):
        numbers = [int(x) for x in item.question.split(":")[1].rstrip("?").split(",")]
        assert int(item.answer) == max(numbers)
    for item in get_suite("count").items(20, levels=[4]):
        word = item.question.split("'")[1]
        listed = item.question.split(":")[1].rstrip("?").split(",")
        assert int(item.answer) == sum(w.strip() == word for w in listed)


def test_harder_arith_levels_have_more_steps():
    lengths = [
        sum(len(i.question) for i in get_suite("arith").items(10, levels=[lv]))
        for lv in sorted(get_suite("arith").levels)
    ]
    assert lengths == sorted(lengths)


def test_unknown_suite_level_and_bad_counts():
    with pytest.raises(ConfigError, match="unknown suite 'nope'"):
        suite_items("nope")
    with pytest.raises(ConfigError, match="has no level 9"):
        get_suite("arith").items(1, levels=[9])
    with pytest.raises(ConfigError, match="at least 1"):
        suite_items("arith", per_level=0)


def test_item_from_dict_rejects_non_objects():
    with pytest.raises(DataError, match="expected a JSON object"):
        Item.from_dict([1, 2])  # type: ignore[arg-type]


def test_json_numbers_are_gold_answers_as_written_and_ids_as_given(tmp_path):
    rows = [
        {"question": "q", "answer": 1e-7, "id": 0},
        {"question": "q", "answer": 1e16},
        {"question": "q", "answer": 2.5},
        {"question": "q", "answer": -3},
    ]
    items = load_jsonl(write_lines(tmp_path / "d.jsonl", rows))
    assert [i.answer for i in items] == ["0.0000001", "10000000000000000", "2.5", "-3"]
    assert items[0].id == "0"
