"""The calc process verifier: property-tested on generated true and false steps."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ponder.strategies import make_strategy
from ponder.strategies.calc import check_text, equations
from ponder.strategies.verifiers import CalcScorer

OPS = {"+": (" + ", " plus "), "-": (" - ", " minus ", " − "), "*": (" × ", " * ", " times ")}
OPS_VALUE = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}


def written(value: int, style: int) -> str:
    """A number as a model might write it: plain, with thousands commas, or as money."""
    if style == 1 and value >= 1000:
        return f"{value:,}"
    if style == 2 and value >= 0:
        return f"${value:,}"
    return str(value)


@st.composite
def steps(draw: st.DrawFn, true: bool) -> tuple[str, int, int]:
    a = draw(st.integers(0, 50_000))
    b = draw(st.integers(0, 5_000))
    op = draw(st.sampled_from(sorted(OPS)))
    spelled = draw(st.sampled_from(OPS[op]))
    right = OPS_VALUE[op](a, b)
    if not true:
        right += draw(st.integers(1, 1000)) * draw(st.sampled_from((-1, 1)))
    style = draw(st.integers(0, 2)) if right >= 0 else 0
    left = f"{written(a, style)}{spelled}{written(b, style)}"
    connector = draw(st.sampled_from((" = ", " is ", " equals ")))
    lead = draw(st.sampled_from(("", "So ", "Step 2: ", "1. First, ")))
    return f"{lead}{left}{connector}{written(right, style)} apples.", a, right


@settings(max_examples=300, deadline=None)
@given(steps(true=True))
def test_every_true_step_is_checked_and_holds(step: tuple[str, int, int]) -> None:
    text, _, right = step
    found = equations(text)
    assert len(found) == 1, text
    assert found[0].holds and found[0].value == right, text
    assert check_text(text) is True


@settings(max_examples=300, deadline=None)
@given(steps(true=False))
def test_every_false_step_is_caught(step: tuple[str, int, int]) -> None:
    text = step[0]
    assert check_text(text) is False, text
    assert CalcScorer().text_score(f"We start.\n\n{text}\n\nAnswer: 3") == 0.0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 999), st.integers(1, 999), st.integers(1, 6))
def test_division_is_exact_and_rounding_follows_the_digits_shown(
    a: int, b: int, digits: int
) -> None:
    exact = Fraction(a, b)
    shown = f"{float(round(exact, digits)):.{digits}f}"
    assert check_text(f"{a} / {b} = {shown}") is True
    off = Fraction(shown) + Fraction(3, 10**digits)
    assert check_text(f"{a} ÷ {b} = {float(off):.{digits}f}") is False


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("3 × 4 = 12, then 12 + 5 = 17", True),
        ("3 x 4 = 12, then 12 + 5 = 18", False),
        ("\\(7 \\times 8 = 56\\)", True),
        ("$1,200 divided by 4 equals $300", True),
        ("5 + 3 = 8 - 2 = 6", True),  # the running-total shorthand
        ("5 + 3 = 9 - 2 = 7", False),
        ("(3 + 4) * 2 = 14", True),
        ("three times 4 is 12", True),
        ("1. 5 + 3 = 8. Then 8 * 2 = 15.", False),
        ("In 2023 the shop opened at 9 = nine.", None),  # no operator: no claim
        ("There are 12 apples.", None),
        ("10 / 0 = 3", None),
    ],
)
def test_worked_examples(text: str, verdict: bool | None) -> None:
    assert check_text(text) is verdict


async def test_scores_ground_operands_and_the_answer_in_the_work() -> None:
    q = "Ana has 8 pencils. Then they give away 4 pencils. How many pencils does Ana have now?"
    scorer = CalcScorer()
    right = scorer.text_score("8 - 4 = 4", q, "4")
    invented = scorer.text_score("8 - 3 = 5", q, "5")  # 3 is in neither the question nor work
    unfollowed = scorer.text_score("8 - 4 = 4", q, "12")
    assert right == 1.0 and 0 < invented < right and 0 < unfollowed < right
    assert scorer.text_score("I think it is 4.", q, "4") == scorer.unchecked


async def test_bon_with_calc_picks_the_verified_path_over_the_majority() -> None:
    from ponder.backends.scripted import ScriptedBackend

    q = "What is 17 + 25?"
    outputs = ["17 + 25 = 32\n\nAnswer: 32"] * 3 + ["17 + 25 = 42\n\nAnswer: 42"]
    backend = ScriptedBackend({q: outputs})
    vote = await make_strategy("sc:n=4").solve(q, backend)
    picked = await make_strategy("bon:n=4,scorer=calc").solve(q, ScriptedBackend({q: outputs}))
    assert vote.answer == "32" and picked.answer == "42"
    assert picked.trace[-1]["scores"] == [0.0, 0.0, 0.0, 1.0]


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[str], list[str]]:
    """A question that changes a start amount step by step, the path that carries each
    result forward, and one that goes back to the start amount at a later step."""
    start = draw(st.integers(2, 60))
    moves = draw(st.lists(st.tuples(st.sampled_from("+-*"), st.integers(2, 40)), min_size=2))
    sentences = {
        "+": "They get {} more.",
        "-": "They give away {}.",
        "*": "It is multiplied by {}.",
    }
    value, path, keys = start, [], []
    for i, (op, b) in enumerate(moves):
        if op == "-" and b >= value:  # amounts stay positive
            op = "+"
            moves[i] = (op, b)
        new = OPS_VALUE[op](value, b)
        first, second = (b, value) if draw(st.booleans()) and op != "-" else (value, b)
        path.append(f"{first} {op} {second} = {new}")
        keys.append((sorted((value, b)), new))
        value = new
    question = f"Ana has {start} shells. " + " ".join(sentences[op].format(b) for op, b in moves)
    if draw(st.booleans()):
        path.append(path[-1])  # restated at the end
    k = draw(st.integers(1, len(moves) - 1))
    before = start
    for op, b in moves[:k]:
        before = OPS_VALUE[op](before, b)
    op, b = moves[k]
    stale = [*path[:k], f"{start} {op} {b} = {OPS_VALUE[op](start, b)}"]
    numbers = [start, *(b for _, b in moves)]
    restated = (sorted((start, b)), OPS_VALUE[op](start, b)) in keys[:k]  # counts once
    assume_stale = before != start and numbers.count(start) == 1 and not restated
    return question, path, stale if assume_stale else []


@settings(max_examples=200, deadline=None)
@given(chains())
def test_a_path_that_goes_back_to_a_used_up_quantity_scores_lower(
    case: tuple[str, list[str], list[str]],
) -> None:
    question, path, stale = case
    scorer = CalcScorer()
    assert scorer.text_score("\n".join(path), question) == 1.0
    if stale:
        assert scorer.text_score("\n".join(stale), question) == 1.0 - scorer.penalty
        assert CalcScorer(reuse=False).text_score("\n".join(stale), question) == 1.0


def test_an_equation_worked_out_again_is_not_a_restatement() -> None:
    q = "Ana has 4 shells. They get 3 more. They give away 3. They get 3 more. They get 2 more."
    again = "4 + 3 = 7\n7 - 3 = 4\n4 + 3 = 7\n7 + 2 = 9"
    assert CalcScorer().text_score(again, q) == 1.0
    stale = "4 + 3 = 7\n7 - 3 = 4\n4 + 3 = 7\n4 + 2 = 6"  # the start amount, used up
    assert CalcScorer().text_score(stale, q) == pytest.approx(0.7)
    recap = "3 x 4 = 12\n12 + 5 = 17\nSo: 3 x 4 = 12 and 12 + 5 = 17."
    assert CalcScorer().text_score(recap, "Ana has 3 boxes of 4 pens and 5 more.") == 1.0


def test_reuse_allows_a_value_worked_out_in_words() -> None:
    q = "Dev has 9 coins. They give away 7. Then their coins become twice as many. How many?"
    worded = "Giving away 7 leaves 2 coins. Twice as many: 2 × 2 = 4.\n\nAnswer: 4"
    assert CalcScorer().text_score(worded, q, "4") == 1.0
    lost = "9 - 7 = 2. Then twice as many: 2 × 9 = 18.\n\nAnswer: 18"
    assert CalcScorer().text_score(lost, q, "18") == pytest.approx(0.7)
