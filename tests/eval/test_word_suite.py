"""The word-problem suite: deterministic, exact, with distractors, words for numbers and
levels by steps; every answer re-derived here by reading the sentences back."""

import re

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.eval.suites import suite_items
from ponder.eval.suites.word import DISTRACTORS
from ponder.expressions import NUMBER_WORDS

NUMBER = {w: i for i, w in enumerate(NUMBER_WORDS)}
READERS = [  # (pattern, how the running value changes)
    (r"has \$(\d+)\.$|has (\w+) cookies\.$", lambda v, a: a),
    (r"walks (\d+) km\.$", lambda v, a: 1000 * a),
    (r"(?:earns|gets) \$(\d+)", lambda v, a: v + a),
    (r"buys (\w+) notebooks for \$(\d+) each", lambda v, a, b: v - a * b),
    (r"works (\w+) hours at \$(\d+) per hour", lambda v, a, b: v + a * b),
    (r"puts (\d+)% of the money|eats (\d+)% of the cookies", lambda v, a: v - v * a // 100),
    (r"gives half of", lambda v: v // 2),
    (r"bakes (\w+) more cookies", lambda v, a: v + a),
    (r"sells (\w+) cookies", lambda v, a: v - a),
    (r"bakes (\w+) more trays with (\w+) cookies", lambda v, a, b: v + a * b),
    (r"walks (\d+) more metres", lambda v, a: v + a),
    (r"cycles (\w+) km", lambda v, a: v + 1000 * a),
    (r"runs (\w+) laps of a (\d+)-metre track", lambda v, a, b: v + a * b),
    (r"half as far again", lambda v: v + v // 2),
]


def read_back(question: str) -> tuple[int, int]:
    """(the answer, steps) from the question's sentences; distractors change nothing."""
    value, steps = 0, -1
    for sentence in re.split(r"(?<=\.) ", question):
        for pattern, change in READERS:
            m = re.search(pattern, sentence)
            if m:
                args = [int(g) if g.isdigit() else NUMBER[g] for g in m.groups() if g]
                value, steps = change(value, *args), steps + 1
                break
    return value, steps


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_answers_are_exact_and_levels_count_steps(level):
    items = suite_items("word", 12, levels=[level])
    low, high = {1: (2, 2), 2: (3, 4), 3: (5, 6), 4: (7, 8)}[level]
    for item in items:
        value, steps = read_back(item.question)
        assert str(value) == item.answer, item.question
        assert low <= steps <= high and int(item.answer) > 0
        said = [
            re.escape(d).replace(r"\{n\}", r"\w+").replace(r"\{a\}", r"\w+") for d in DISTRACTORS
        ]
        assert sum(len(re.findall(d, item.question)) for d in said) == (2 if level == 4 else 1)
    if level >= 3:
        assert any(re.search(r"\b(two|three|four|five|six)\b", i.question) for i in items)


def test_the_suite_is_deterministic_and_listed():
    assert [i.question for i in suite_items("word", 3)] == [
        i.question for i in suite_items("word", 3)
    ]
    assert suite_items("word", 2, seed=1)[0].question != suite_items("word", 2)[0].question
    result = CliRunner().invoke(cli, ["eval", "suites"])
    assert result.exit_code == 0 and "word" in result.output
