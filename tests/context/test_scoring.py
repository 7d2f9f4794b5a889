"""Exact scoring: the value must appear whole; naming a distractor is wrong."""

from __future__ import annotations

import pytest

from ponder.eval.context_sweeps import Case, score


def case(*answers: str, distractors: tuple[str, ...] = ()) -> Case:
    return Case(id="c", task="t", prompt="", answers=answers, distractors=distractors)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("4818201", 1.0),
        ("The special magic number for amber-falcon is: 4818201.", 1.0),
        ("**4,818,201**", 1.0),  # digit groups are joined
        ("48182011", 0.0),  # inside a longer number
        ("14818201", 0.0),
        ("4818-201", 0.0),
        ("481820", 0.0),
        ("", 0.0),
        ("I don't know.", 0.0),
    ],
)
def test_a_number_must_appear_whole(output: str, expected: float) -> None:
    assert score(case("4818201"), output) == expected


def test_names_match_case_and_whitespace_insensitively() -> None:
    assert score(case("Oswin Tarly"), "The mayor is  oswin\ntarly.") == 1.0
    assert score(case("Oswin Tarly"), "Oswin") == 0.0


def test_uuids_match_in_any_case() -> None:
    value = "9f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"
    assert score(case(value), f'"{value.upper()}"') == 1.0
    assert score(case(value), value[:-1]) == 0.0


def test_several_answers_score_the_fraction_found() -> None:
    assert score(case("111", "222", "333", "444"), "111 and 333") == 0.5


def test_naming_a_distractor_scores_zero_even_beside_the_answer() -> None:
    c = case("1234567", distractors=("7654321",))
    assert score(c, "1234567") == 1.0
    assert score(c, "1234567 or 7654321") == 0.0
    assert score(c, "7654321") == 0.0
