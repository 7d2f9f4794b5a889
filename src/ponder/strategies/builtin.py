"""The built-in strategies, registered through the ``ponder.strategies`` entry points
in ``pyproject.toml`` like any plugin's."""

from __future__ import annotations

from typing import Any

from ponder.strategies.auto import AutoOptions, make_auto
from ponder.strategies.base import Options, Strategy, StrategyEntry, objects
from ponder.strategies.beam import BeamOptions, BeamSearch
from ponder.strategies.best_of_n import BoNOptions, as_scorer, bon_factory
from ponder.strategies.direct import ChainOfThought, Direct, DirectOptions, ProgramOfThought
from ponder.strategies.pool import SampleOptions, SamplePool
from ponder.strategies.self_consistency import SCOptions, SelfConsistency
from ponder.strategies.tree import ToTOptions, TreeOfThoughts


def _entry(cls: Any, options: type[Options], name: str) -> StrategyEntry:
    def build(values: dict[str, Any]) -> Strategy:
        built: Strategy = cls(options.parse(values, name))
        return built

    return StrategyEntry(build, options)


DIRECT = _entry(Direct, DirectOptions, "direct")
COT = _entry(ChainOfThought, DirectOptions, "cot")
POT = _entry(ProgramOfThought, DirectOptions, "pot")
SC = _entry(SelfConsistency, SCOptions, "sc")
BON = StrategyEntry(bon_factory, BoNOptions)
AUTO = StrategyEntry(make_auto, AutoOptions)
SAMPLE = _entry(SamplePool, SampleOptions, "sample")


def _search(cls: Any, options: type[Options], name: str) -> StrategyEntry:
    """A step search: a scorer object or callable and a judge backend go around the
    typed options (``make_strategy("beam", scorer=fn, judge=backend)``)."""

    def build(values: dict[str, Any]) -> Strategy:
        rest, found = objects(values, "scorer", "judge")
        scorer = found.get("scorer")
        scorer = as_scorer(scorer) if scorer is not None else None
        built: Strategy = cls(options.parse(rest, name), scorer, found.get("judge"))
        return built

    return StrategyEntry(build, options)


TOT = _search(TreeOfThoughts, ToTOptions, "tot")
BEAM = _search(BeamSearch, BeamOptions, "beam")
