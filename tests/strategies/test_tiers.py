"""Every strategy solves on a ladder of tiers; one backend is a ladder of one."""

from __future__ import annotations

import pytest

from ponder import BaseStrategy, Ladder, Question, ScriptedBackend, ask_async, make_strategy
from ponder.cascade import parse_plan
from ponder.errors import ConfigError
from ponder.routing.features import FEATURES
from ponder.routing.router import PlanModel, Router
from ponder.strategies import AutoOptions, AutoStrategy, SamplePool, solve_on, strategy_names
from ponder.types import Result, as_question

Q = "What is 6 x 7?"


def _router(plan: str) -> Router:
    model = PlanModel(parse_plan(plan), [0.0] * len(FEATURES), 0.0, 1.0)
    return Router([model], [0.0] * len(FEATURES), [1.0] * len(FEATURES))


def test_one_backend_is_a_ladder_of_one() -> None:
    backend = ScriptedBackend(["Answer: 42"])
    ladder = Ladder.of(backend)
    assert len(ladder) == 1 and ladder[0].current is backend
    assert Ladder.of(ladder) is ladder
    with pytest.raises(ConfigError):
        Ladder([])


async def test_a_strategy_draws_on_the_bottom_tier_of_its_ladder() -> None:
    small = ScriptedBackend({Q: ["Answer: 42"]}, model="small")
    big = ScriptedBackend({Q: ["Answer: 41"]}, model="big")
    result = await make_strategy("sc:n=3").solve(Q, Ladder([small, big]))
    assert result.answer == "42" and result.model == "small" and not big.calls


async def test_auto_climbs_the_ladder_it_is_given_with_the_router_it_was_built_with() -> None:
    small = ScriptedBackend({Q: ["Answer: 1"] * 8}, model="small")
    big = ScriptedBackend({Q: ["Answer: 42"] * 8}, model="big")
    auto = make_strategy("auto", router=_router("cot@1"))
    result = await auto.solve(Q, Ladder([small, big]))
    assert result.answer == "42" and result.model == "big" and not small.calls
    assert result.trace[0]["tiers"] == [small.name, big.name]


async def test_auto_given_one_backend_climbs_its_own_tiers() -> None:
    small = ScriptedBackend({Q: ["Answer: 1"] * 8}, model="small")
    big = ScriptedBackend({Q: ["Answer: 42"] * 8}, model="big")
    auto = AutoStrategy(AutoOptions(plan="cot@1"), tiers=[big])
    result = await auto.solve(Q, small)
    assert result.answer == "42" and result.usage.samples == 1


def test_the_old_side_doors_of_auto_warn() -> None:
    auto = AutoStrategy(AutoOptions(plan="cot@0"))
    with pytest.warns(DeprecationWarning, match="router"):
        auto.with_router(_router("cot@0"))
    with pytest.warns(DeprecationWarning, match="Ladder"):
        auto.with_tiers([])


async def test_sample_is_a_registered_strategy() -> None:
    assert "sample" in strategy_names()
    backend = ScriptedBackend({Q: ["Answer: 42", "Answer: 41", "Answer: 42"]})
    pool = make_strategy("sample:n=2,wave=1")
    assert isinstance(pool, SamplePool)
    result = await pool.solve(Q, backend)
    assert result.answer == "42" and result.usage.samples == 3
    assert [s.temperature for s in result.samples] == [0.0, 0.7, 0.7]
    assert result.strategy == "sample" and result.confidence == 1.0


async def test_a_strategy_written_for_one_backend_still_runs_with_a_warning() -> None:
    class Old:
        name = "old"

        async def solve(self, question: Question, backend: ScriptedBackend) -> Result:
            return Result(answer=backend.model, text="", confidence=1.0, strategy=self.name)

    backend = ScriptedBackend(["x"], model="m")
    with pytest.warns(DeprecationWarning, match="BaseStrategy"):
        result = await solve_on(Old(), as_question(Q), Ladder.of(backend))  # type: ignore[arg-type]
    assert result.answer == "m"


async def test_the_api_solves_on_a_ladder_of_one() -> None:
    backend = ScriptedBackend({Q: ["Answer: 42"]})
    result = await ask_async(Q, backend, "direct")
    assert result.answer == "42" and isinstance(make_strategy("direct"), BaseStrategy)
