"""The built-in strategies, registered through the ``ponder.strategies`` entry points
in ``pyproject.toml`` like any plugin's."""

from __future__ import annotations

from typing import Any

from ponder.strategies.auto import AutoOptions, make_auto
from ponder.strategies.base import Options, Strategy, StrategyEntry
from ponder.strategies.beam import BeamOptions, BeamSearch
from ponder.strategies.best_of_n import BoNOptions, bon_factory
from ponder.strategies.direct import ChainOfThought, Direct, DirectOptions, ProgramOfThought
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
TOT = _entry(TreeOfThoughts, ToTOptions, "tot")
BEAM = _entry(BeamSearch, BeamOptions, "beam")
