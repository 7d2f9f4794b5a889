"""The question carries its kind and choices; every strategy reads them from there."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.strategies import Options, StrategyEntry, make_strategy, register_strategy
from ponder.strategies.base import BaseStrategy, annotate
from ponder.strategies.tiers import Ladder
from ponder.types import Question, Result, SamplingParams, as_question

CAPITAL = "Which city is the capital of France?"


def test_a_question_is_checked_when_made() -> None:
    with pytest.raises(ConfigError, match="kind must be one of"):
        as_question("What is 2 + 2?", kind="numbr")
    with pytest.raises(ConfigError, match="choices"):
        as_question("Pick one", kind="choice", choices=["", "b"])
    with pytest.raises(ConfigError, match="no messages"):
        Question(())
    asked = as_question([{"role": "user", "content": "hi"}], "text")
    assert asked.text == "hi" and as_question(asked) is asked


def test_a_kind_typo_fails_before_any_model_call() -> None:
    backend = ScriptedBackend({"What is 2 + 2?": ["Answer: 4"]})
    result = CliRunner().invoke(
        cli, ["ask", "What is 2 + 2?", "--kind", "numbr", "-m", "scripted:"]
    )
    assert result.exit_code != 0 and "numbr" in result.output
    with pytest.raises(ConfigError, match="kind"):
        make_strategy("sc:kind=numbr")
    assert backend.calls == []


@pytest.mark.parametrize("spec", ["direct", "cot", "sc:n=3", "bon:n=3", "auto:plan=g+2@0"])
def test_live_strategies_extract_with_the_questions_choices(spec: str) -> None:
    backend = ScriptedBackend({CAPITAL: ["I think the capital is paris."]})
    asked = as_question(CAPITAL, kind="choice", choices=["London", "Paris", "Rome"])
    result = asyncio.run(make_strategy(spec).solve(asked, backend))
    assert result.answer == "paris", (spec, result.answer)


class PlainOptions(Options):
    loud: bool = False


class Plain(BaseStrategy):
    """A third-party strategy that knows nothing of answer kinds."""

    name = "plain"

    def __init__(self, options: PlainOptions) -> None:
        self.options = options

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        backend = await ladder.bottom()
        samples = await backend.generate(list(question.messages), SamplingParams(), 1)
        annotate(samples, question)
        answer = samples[0].answer
        return Result(answer=answer, text=samples[0].text, confidence=1.0, strategy=self.name)


def test_a_strategy_without_a_kind_option_runs_in_eval(tmp_path) -> None:
    entry = StrategyEntry(lambda v: Plain(PlainOptions.parse(v, "plain")), PlainOptions)
    register_strategy("plain", entry.factory, entry.options)
    items = [Item(id="q1", question="What is 6 times 7?", answer="42", kind="number")]
    backend = ScriptedBackend({"What is 6 times 7?": ["It is 42."]})
    summary = asyncio.run(run_eval(items, backend, ["plain"], SampleStore(tmp_path)))
    assert (summary.finished, summary.failed) == (1, 0)
