"""The countdown / Game-of-24 suite: every item solvable, levels by solution count, and an
exact checker that the harness grades with."""

from __future__ import annotations

import json

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ponder.answers import answers_match, extract_answer
from ponder.cli.main import cli
from ponder.eval.store import SampleStore
from ponder.eval.suites import get_suite
from ponder.eval.suites.countdown import FEW, MANY, solve
from ponder.expressions import puzzle, puzzle_gold, solves


def test_every_item_is_solvable_and_its_level_counts_solutions() -> None:
    items = get_suite("countdown").items(4, seed=3)
    assert {i.difficulty for i in items} == {"1", "2", "3", "4"}
    for item in items:
        given_ = puzzle(item.answer)
        assert given_ is not None and item.kind == "expr"
        numbers, target = [int(n) for n in given_[0]], int(given_[1])
        assert len(numbers) == (3 if item.difficulty in "12" else 4)
        found = solve(numbers, target)
        level = int(item.difficulty or 0)
        assert len(found) >= MANY[level] if level in MANY else 1 <= len(found) <= FEW[level]
        assert all(solves(expression, item.answer) for expression in found)
        assert f"make {target}" in item.question


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 13), min_size=3, max_size=4))
def test_the_checker_accepts_every_solution_and_rejects_misuses(numbers: list[int]) -> None:
    for target in (24, 10):
        gold = puzzle_gold(numbers, target)
        for expression in solve(numbers, target)[:5]:
            assert solves(expression, gold)
            assert not solves(f"{expression} + 0", gold)  # a number not given
            assert not solves(f"({expression}) * 1", gold) or 1 in numbers
        dropped = " + ".join(map(str, numbers[1:]))
        assert not solves(dropped, gold)  # a number left out


def test_exact_fractions_and_written_forms() -> None:
    gold = puzzle_gold([3, 3, 8, 8], 24)
    assert solves("8 / (3 - 8 / 3)", gold)  # 8 / (1/3) = 24 exactly; floats would miss
    assert solves("8 ÷ (3 − 8 ÷ 3)", gold)
    assert not solves("8 * 3", gold)
    text = "First 3 - 8/3 = 1/3.\n\nAnswer: 8 / (3 - 8 / 3) = 24"
    answer = extract_answer(text, kind="expr")
    assert answer == "8/(3-8/3)" and answers_match(answer, gold, "expr")
    assert not answers_match("8/(3-8/3)", puzzle_gold([3, 3, 8, 7], 24), "expr")


def test_eval_run_grades_countdown_with_the_checker(tmp_path) -> None:
    item = get_suite("countdown").items(1, levels=[3])[0]
    given_ = puzzle(item.answer)
    assert given_ is not None
    right = solve([int(n) for n in given_[0]], 24)[0]
    script = tmp_path / "s.json"
    script.write_text(json.dumps({item.question: [f"Answer: {right}"]}))
    args = ["eval", "run", "--suite", "countdown", "--levels", "3", "--per-level", "2"]
    args += ["-m", f"scripted:{script}", "-s", "direct", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    graded = {r["item"]["id"]: r["correct"] for r in SampleStore(tmp_path / "run").records()}
    assert graded == {"countdown-s0-l3-000": True, "countdown-s0-l3-001": False}
    listing = CliRunner().invoke(cli, ["eval", "suites"])
    assert "countd" in listing.output and "to make 24" in listing.output
