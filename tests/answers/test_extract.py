"""ponder.answers: extraction from messy small-model outputs, normalisation, grading."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ponder.answers import (
    KINDS,
    answers_match,
    detect_kind,
    extract_answer,
    normalize,
    parse_number,
    sample_answer,
)
from ponder.errors import ConfigError

LONG_RAMBLE = (
    "Janet's ducks lay 16 eggs per day. She eats 3 for breakfast and bakes muffins with 4. "
    "So 16 - 3 - 4 = 9 eggs are left. She sells them at $2 each, so 9 * 2 = 18. "
    "The answer is 18. Let me double check: 16 eggs, 3 eaten, 4 baked, 9 left, 9 times 2 is "
)

# (model output, kind, expected canonical answer)
EXTRACTION_CASES = [
    ("The answer is 1,234.", "auto", "1234"),
    ("#### 72", "auto", "72"),
    ("So she has $18 left.", "auto", "18"),
    ("\\boxed{\\frac{1}{2}}", "auto", "0.5"),
    ("[답: 42]", "auto", "42"),
    ("계산하면 7 + 8 = 15 입니다. 답: 15개", "number", "15"),
    ("Answer: (C)", "choice", "C"),
    ("Answer: (C)", "auto", "C"),
    ("**Final Answer:** 7", "auto", "7"),
    ("-5", "number", "-5"),
    ("−3", "number", "-3"),
    ("The total is 12 apples. 12 + 3 = 15. The answer is 15", "number", "15"),
    ("1, 2, 3", "number", "3"),
    ("0.50", "auto", "0.5"),
    ("I think it's B because the others are wrong", "choice", "B"),
    ("I think it's B because...", "auto", "B"),
    ("The answer is 12.\n\nQuestion: Tom has 5 apples and buys 30 more.", "number", "12"),
    ("Natalia sold 48 / 2 = 24 clips in May.\n#### 72\nQuestion: Natalia sold 48", "auto", "72"),
    ("Answer: 12\n\nQuestion: What is 5 + 5?\nAnswer: 10\n\nQuestion: What", "number", "12"),
    ("Question: What is 2 + 3?\nAnswer: 5", "number", "5"),
    (LONG_RAMBLE, "number", "18"),
    ("The answer is 15. The answer is 15. The answer is 1", "number", "15"),
    ("Step 1: 5 * 4 = 20. Step 2: 20 + 2 = 22. So the total is", "number", "22"),
    ("\\boxed{1{,}000}", "number", "1000"),
    ("the final answer is $\\frac{3}{4}$", "auto", "0.75"),
    ("The answer is 3/4 of the cake", "number", "0.75"),
    ("Final Answer: The final answer is $7$. I hope it is correct.", "auto", "7"),
    ("The answer is \\dfrac{1}{3}", "auto", "0.333333"),
    ("The answer is -\\frac{5}{2}.", "number", "-2.5"),
    ("He pays 5,000원 in total.", "number", "5000"),
    ("The price is ₩12,000", "number", "12000"),
    ("It costs £2.50 in total", "number", "2.5"),
    ("The answer is 50%", "number", "50"),
    ("The distance is 3.5 km", "auto", "3.5"),
    ("The answer is 42.", "auto", "42"),
    ("Answer: 18 dollars", "auto", "18"),
    ("The answer is 1,000,000 dollars because 1000 * 1000 = 1000000", "number", "1000000"),
    ("The answer is 12 + 3 = 15.", "number", "15"),
    ("The answer is 8 because 5 + 3 = 8. Then 8 - 3 = 5, and 5 + 2 =", "number", "8"),
    ("x = -0.5", "auto", "-0.5"),
    ("12 - 5 = 7", "number", "7"),
    ("First 20 x 3 = 60. \\boxed{15}. Wait, 20 and 60 and 4", "number", "15"),
    ("\\boxed{18 \\text{ dollars}}", "number", "18"),
    ("The answer is: $\\boxed{-4}$", "auto", "-4"),
    ("The answer to this question is 5 pencils", "number", "5"),
    ("Answer:\n\nShe has 3 + 4 = 7 marbles", "number", "7"),
    ("The answer is 18.00", "number", "18"),
    ("The answer is $18.00.", "auto", "18"),
    ("\\boxed{B}", "choice", "B"),
    ("Option D is correct.", "choice", "D"),
    ("B) 12 apples", "choice", "B"),
    ("(A) 12 (B) 15 (C) 18 (D) 21\nThe answer is (C).", "choice", "C"),
    ("The answer is B because A is wrong.", "choice", "B"),
    ("(A) is wrong and (B) is wrong, so I pick (D)", "choice", "D"),
    ("The answer is Paris.", "text", "paris"),
    ("**Answer**: the Eiffel Tower!", "text", "eiffel tower"),
    ("Paris", "auto", "paris"),
    ("   ", "auto", None),
    ("", "number", None),
    ("No numbers in here at all", "number", None),
    ("I have no idea", "choice", None),
]


@pytest.mark.parametrize(("output", "kind", "expected"), EXTRACTION_CASES)
def test_extract_answer_table(output: str, kind: str, expected: str | None) -> None:
    assert extract_answer(output, kind=kind) == expected


OPTIONS = ["London", "Paris", "Berlin", "The Eiffel Tower"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("I believe the capital is Paris.", "paris"),
        ("Answer: (b)", "paris"),
        ("Not London, not Berlin, it must be the eiffel tower", "eiffel tower"),
        ("The answer is C, since Berlin is in Germany.", "berlin"),
        ("No idea.", None),
    ],
)
def test_extract_answer_option_texts(output: str, expected: str | None) -> None:
    assert extract_answer(output, kind="choice", choices=OPTIONS) == expected


def test_letter_choices_restrict_the_letters() -> None:
    assert extract_answer("I think E is right, or maybe B", "choice", ["A", "B", "C", "D"]) == "B"
    assert extract_answer("Answer: (e)", "auto", ["(A)", "(B)", "(C)", "(D)"]) is None
    assert extract_answer("Answer: (d)", "auto", ["(A)", "(B)", "(C)", "(D)"]) == "D"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42.0),
        ("-$1,234.50", -1234.5),
        ("$-3", -3.0),
        ("−7", -7.0),
        ("3/4", 0.75),
        ("\\frac{3}{4}", 0.75),
        ("\\dfrac{1}{8}", 0.125),
        ("18 dollars", 18.0),
        ("5 apples", 5.0),
        ("3.5 km", 3.5),
        ("50%", 50.0),
        ("42.", 42.0),
        ("₩5,000", 5000.0),
        ("5,000원", 5000.0),
        ("$18$", 18.0),
        (".5", 0.5),
        ("1, 2, 3", None),
        ("1 2", None),
        ("5 apples and 3 pears", None),
        ("1/0", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_number(text: str, value: float | None) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("answer", "kind", "expected"),
    [
        ("18", "auto", "18"),
        ("18.0", "auto", "18"),
        ("$18.00", "number", "18"),
        ("0.50", "auto", "0.5"),
        ("3/4", "auto", "0.75"),
        ("1/3", "auto", "0.333333"),
        ("2/3", "number", "0.666667"),
        ("1/3000", "number", "0.000333333"),
        ("-0", "number", "0"),
        ("12345678901234567890", "number", "12345678901234567890"),
        ("(b)", "auto", "B"),
        ("c.", "choice", "C"),
        ("**B**", "choice", "B"),
        ("The  Eiffel   Tower!", "auto", "eiffel tower"),
        ("An apple, a day.", "text", "apple day"),
        ("3.5 km", "text", "3.5 km"),
        ("not a number", "number", "not number"),
        ("the b", "auto", "B"),
    ],
)
def test_normalize(answer: str, kind: str, expected: str) -> None:
    assert normalize(answer, kind) == expected


@pytest.mark.parametrize(
    ("predicted", "gold", "kind", "expected"),
    [
        ("18", "18.00", "auto", True),
        ("$18", "18", "auto", True),
        ("18 dollars", "18", "number", True),
        ("1,000", "1000", "auto", True),
        ("0.5", "1/2", "auto", True),
        ("0.333333", "1/3", "auto", True),
        ("0.142857", "1/7", "auto", True),
        ("1000000.5", "1000000", "auto", True),
        ("1000001", "1000000", "auto", False),
        ("17", "18", "auto", False),
        ("(b)", "B", "choice", True),
        ("B", "C", "auto", False),
        ("the Paris", "paris", "text", True),
        (None, "18", "auto", False),
        ("", "", "auto", False),
    ],
)
def test_answers_match(predicted: str | None, gold: str, kind: str, expected: bool) -> None:
    assert answers_match(predicted, gold, kind) is expected


@pytest.mark.parametrize(
    ("gold", "kind"),
    [("18", "number"), ("$1,200", "number"), ("B", "choice"), ("(c)", "choice"), ("Paris", "text")],
)
def test_detect_kind(gold: str, kind: str) -> None:
    assert detect_kind(gold) == kind


@pytest.mark.parametrize(
    "call",
    [
        lambda: extract_answer(None),  # type: ignore[arg-type]
        lambda: extract_answer(b"42"),  # type: ignore[arg-type]
        lambda: normalize(18),  # type: ignore[arg-type]
        lambda: parse_number(None),  # type: ignore[arg-type]
        lambda: detect_kind(1.5),  # type: ignore[arg-type]
        lambda: answers_match(18, "18"),  # type: ignore[arg-type]
        lambda: answers_match("18", None),  # type: ignore[arg-type]
        lambda: extract_answer("B", "choice", "ABCD"),
        lambda: extract_answer("B", "choice", [1, 2]),  # type: ignore[list-item]
    ],
)
def test_bad_input_raises_a_config_error(call: object) -> None:
    with pytest.raises(ConfigError, match="must be"):
        call()  # type: ignore[operator]


def test_unknown_kind_raises_a_config_error() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        extract_answer("42", kind="integer")


# ---- property tests ----------------------------------------------------------------------

integers = st.integers(min_value=-(10**12), max_value=10**12)
decimals = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=4, allow_nan=False
)
TEMPLATES = [
    "{x}",
    "The answer is {x}",
    "The answer is {x}.",
    "**Final Answer:** {x}",
    "We compute 3 + 4 = 7 first.\n#### {x}",
    "\\boxed{{{x}}}",
    "[답: {x}]",
    "so the total is {x} dollars",
    "Answer: {x}\nQuestion: Tom has 12 apples and 5 pears.",
]


def _renderings(value: Decimal) -> list[str]:
    plain = format(value, "f")
    padded = plain + ("0" if "." in plain else ".00")
    forms = [plain, f"{value:,f}", padded, f"{value:.6f}"]
    if value >= 0:
        forms += [f"${value:,f}", f"{value:f}%"]
    else:
        forms += [f"-${-value:,f}", f"−{-value:f}"]
    return forms


@given(st.one_of(integers.map(Decimal), decimals), st.sampled_from(TEMPLATES), st.data())
def test_numbers_round_trip_through_extraction(
    value: Decimal, template: str, data: st.DataObject
) -> None:
    rendered = data.draw(st.sampled_from(_renderings(value)))
    expected = normalize(format(value, "f"), "number")
    assert Fraction(expected) == Fraction(value)
    for kind in ("auto", "number"):
        assert extract_answer(template.format(x=rendered), kind=kind) == expected


@given(
    st.integers(min_value=-1000, max_value=1000),
    st.integers(min_value=1, max_value=1000),
    st.sampled_from(["{n}/{d}", "\\frac{{{n}}}{{{d}}}", "\\dfrac{{{n}}}{{{d}}}"]),
)
def test_fractions_round_trip(n: int, d: int, form: str) -> None:
    text = form.format(n=n, d=d)
    got = extract_answer(f"The answer is $\\boxed{{{text}}}$", kind="number")
    assert got is not None
    assert got == normalize(f"{n}/{d}")
    assert answers_match(got, f"{n}/{d}")
    assert answers_match(f"{n}/{d}", got)


@given(st.text(), st.sampled_from(KINDS))
def test_normalize_is_idempotent(text: str, kind: str) -> None:
    once = normalize(text, kind)
    assert normalize(once, kind) == once


number_strings = st.one_of(
    integers.map(str),
    decimals.map(lambda d: f"{d:,f}"),
    st.fractions(max_denominator=50).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
)


@given(number_strings, st.sampled_from(KINDS))
def test_normalize_is_idempotent_on_numbers(text: str, kind: str) -> None:
    once = normalize(text, kind)
    assert normalize(once, kind) == once


@given(number_strings, number_strings)
def test_answers_match_is_symmetric_on_numbers(a: str, b: str) -> None:
    assert answers_match(a, b) == answers_match(b, a)
    assert answers_match(a, a)


@given(st.text(), st.sampled_from(KINDS))
def test_extraction_never_crashes_and_is_canonical(text: str, kind: str) -> None:
    got = extract_answer(text, kind)
    assert got is None or normalize(got, kind) == got


CUT_EXPRESSION = (
    "So, the final expression is:\nAnswer: (6 - 2) * 6\n\n"
    "Let's verify this expression using Python code.\n```python\na = 2\nb ="
)


def test_a_cut_sample_that_stated_an_expression_answers_with_it() -> None:
    # A countdown path that states its expression, then runs out of tokens checking
    # it, answers with the expression, as the same text does when not cut.
    assert extract_answer(CUT_EXPRESSION, "expr") == "(6-2)*6"
    assert sample_answer(CUT_EXPRESSION, "expr", truncated=True) == "(6-2)*6"


def test_a_cut_sample_with_no_stated_expression_abstains() -> None:
    cut = "Let's try (6 - 2) * 6 first.\nThat gives 24, so we try\n(6 + 6"
    assert sample_answer(cut, "expr", truncated=True) is None


@pytest.mark.parametrize("kind", ["auto", "text", "expr", "number"])
@pytest.mark.parametrize(
    "output",
    [
        "Let's write the final expression on its own last line as 'Answer: <answer>'.",
        "The result is 12 apples.\nFormat: Answer: <your answer>",
    ],
)
def test_a_template_placeholder_is_no_answer(output: str, kind: str) -> None:
    # The placeholder is never the answer (kinds with a last-line fallback may still
    # answer with the whole last line, as for any text without a marker).
    assert extract_answer(output, kind) not in {"answer", "your answer"}
    assert sample_answer(output + "\n", kind, truncated=True) is None
