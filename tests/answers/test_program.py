"""Program of thought: the arithmetic program a model writes is evaluated, never run."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ponder.answers.program import MAX_CHARS, program_answer, run_program


def fenced(code: str) -> str:
    return f"Here is the program:\n```python\n{code}\n```\nIt prints the answer."


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("answer = 58 - 19 - 6", "33"),
        ("a = 0.1 + 0.2\nanswer = a * 10", "3"),  # exact fractions, not floats
        ("price = 12.5\ncount = 4\ntotal = price * count", "50"),  # the last value assigned
        ("x = 4\nprint(x * 2)", "8"),  # what it prints wins
        ('x = 7\nprint("The answer is", x)', "7"),
        ("x = 10\nx += 5\nx *= 2\nanswer = x // 4", "7"),
        ("a, b = 3, 4\nanswer = (a ** 2 + b ** 2) ** 1", "25"),
        ("answer = round(10 / 3, 2)", "3.33"),
        ("answer = max(3, 9, 4) - min([2, 5]) + sum([1, 2, 3]) + abs(-1)", "14"),
        ("total: int = 12\nanswer = total % 5", "2"),
        ("answer = 7 / 2", "3.5"),
        ("def solve():\n    a = 3\n    b = a * 4\n    return b + 1\n\nprint(solve())", "13"),
        ("def main():\n    return 6 * 7\n\nanswer = main()", "42"),
        (
            'def solution():\n    """Doc."""\n    x = 5\n    return x\n\n'
            'if __name__ == "__main__":\n    print(solution())',
            "5",
        ),
        ("# comments are fine\npercent = 20\nanswer = 250 * percent / 100", "50"),
    ],
)
def test_arithmetic_programs_give_their_result(code: str, expected: str) -> None:
    assert run_program(fenced(code)) == expected
    assert run_program(code) == expected  # bare code, no fence


@pytest.mark.parametrize(
    "code",
    [
        "import os\nanswer = 1",
        "answer = __import__('os').system('echo hi')",
        "answer = open('/etc/passwd')",
        "x = (1).__class__\nanswer = 2",
        "answer = eval('1 + 1')",
        "while True:\n    pass",
        "for i in range(3):\n    answer = i",
        "answer = 'forty two'",
        "answer = 9 ** 9 ** 9",  # would take forever as Python runs it
        "answer = 10 ** 200",  # beyond the size cap
        "answer = 2 ** 0.5",  # only whole exponents
        "answer = 5 / 0",
        "answer = y + 1",  # never assigned
        "def f():\n    return f()\n\nanswer = f()",  # no recursion
        "def f(a):\n    return a\n\nanswer = f(2)",  # no parameters
        "answer = [1, 2, 3]",
        "answer = lambda: 3",
        "print('no number here')",
        "answer = 1 if True else 2",
        "this is not code",
        "",
    ],
)
def test_anything_outside_the_arithmetic_subset_gives_no_answer(code: str) -> None:
    start = time.perf_counter()
    assert run_program(fenced(code)) is None
    assert time.perf_counter() - start < 1.0  # nothing is executed, nothing loops


def test_long_or_deeply_nested_programs_are_refused_not_crashed() -> None:
    assert run_program("answer = " + "+".join(["1"] * 3000)) is None  # over MAX_CHARS
    assert len("answer = " + "(" * 1000 + "1" + ")" * 1000) < MAX_CHARS
    assert run_program("answer = " + "(" * 1000 + "1" + ")" * 1000) is None
    assert run_program("answer = " + "-" * 1500 + "1") is None
    many = "\n".join(f"x{i} = {i}" for i in range(300))
    assert run_program(many) is None  # more statements than the cap


def test_the_last_fenced_block_is_the_program() -> None:
    text = "First try:\n```python\nanswer = 1\n```\nFixed:\n```python\nanswer = 2\n```"
    assert run_program(text) == "2"
    assert run_program("```py\nanswer = 3\n```") == "3"


def test_a_cut_off_or_non_numeric_question_has_no_program_answer() -> None:
    assert program_answer(fenced("answer = 4"), "number") == "4"
    assert program_answer(fenced("answer = 4"), "number", truncated=True) is None
    assert program_answer(fenced("answer = 4"), "choice") is None
    assert program_answer(fenced("answer = 4"), "auto") == "4"


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text: str) -> None:
    got = run_program(text)
    assert got is None or isinstance(got, str)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("+-*"), st.integers(min_value=-999, max_value=999)),
        min_size=1,
        max_size=12,
    )
)
def test_results_match_exact_arithmetic(steps: list[tuple[str, int]]) -> None:
    lines, value = ["x = 1"], 1
    for op, number in steps:
        lines.append(f"x = x {op} ({number})")
        value = {"+": value + number, "-": value - number, "*": value * number}[op]
    if len(str(abs(value))) > 60:
        return
    assert run_program("\n".join([*lines, "answer = x"])) == str(value)
