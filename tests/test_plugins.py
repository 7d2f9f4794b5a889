"""An installed package adds a backend and a strategy through entry points, the same
door the built-ins use."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from ponder import load_backend, make_strategy
from ponder.errors import ConfigError, UnknownStrategyError
from ponder.strategies import strategy_names, strategy_options

PLUGIN = """
from ponder.backends.base import BaseBackend, new_request_id
from ponder.strategies import Options, StrategyEntry
from ponder.types import Result, Sample


class Echo(BaseBackend):
    name = model = "echo"

    async def generate(self, messages, params, n=1):
        text = messages[-1].content
        return [Sample(text=text, request_id=new_request_id()) for _ in range(n)]


class ShoutOptions(Options):
    times: int = 1


class Shout:
    name = "shout"

    def __init__(self, options):
        self.options = options

    async def solve(self, question, backend):
        sample = (await backend.generate([question_message(question)], None, 1))[0]
        text = sample.text.upper() * self.options.times
        return Result(answer=text, text=text, confidence=1.0, strategy="shout")


def question_message(question):
    from ponder.types import Message
    return Message("user", question)


def echo(target, options):
    return Echo()


SHOUT = StrategyEntry(lambda values: Shout(ShoutOptions.parse(values, "shout")), ShoutOptions)
BROKEN = "not a strategy"
"""


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "demo_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = tmp_path / "demo_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[ponder.backends]\necho = demo_plugin:echo\n\n"
        "[ponder.strategies]\nshout = demo_plugin:SHOUT\nbroken = demo_plugin:BROKEN\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("demo_plugin", None)


def test_built_ins_come_from_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {point.name for point in entry_points(group="ponder.strategies")}
    assert {"direct", "cot", "sc", "bon", "auto"} <= names
    assert {"embedded", "openai", "scripted"} <= {
        point.name for point in entry_points(group="ponder.backends")
    }


def test_an_installed_package_adds_a_backend_and_a_strategy(installed: None) -> None:
    backend = load_backend("echo:anything", cache=False)
    strategy = make_strategy("shout:times=2")
    result = asyncio.run(strategy.solve("hi there", backend))
    assert result.answer == "HI THEREHI THERE"
    assert "shout" in strategy_names()
    options = strategy_options("shout")
    assert options is not None and options.request_fields() == {"times"}


def test_a_broken_plugin_fails_alone_with_a_clear_error(installed: None) -> None:
    with pytest.raises(ConfigError, match="plugin 'broken'"):
        make_strategy("broken")
    assert make_strategy("sc:n=2").name == "sc"
    with pytest.raises(UnknownStrategyError, match="use one of"):
        make_strategy("nothing-by-that-name")
