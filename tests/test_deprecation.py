"""Old spellings of renamed options still work for one release, with a notice."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.context.apply import ContextOptions
from ponder.errors import ConfigError
from ponder.server.policy import request_options
from ponder.server.protocol import PonderOptions, SamplingFields
from ponder.strategies import make_strategy


def test_auto_budget_is_now_cost_budget() -> None:
    assert make_strategy("auto:cost_budget=2").options.cost_budget == 2.0  # type: ignore[attr-defined]
    with pytest.warns(DeprecationWarning, match="'budget' is deprecated: use 'cost_budget'"):
        old = make_strategy("auto:budget=2")
    assert old.options.cost_budget == 2.0  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="give cost_budget only"):
        make_strategy("auto:budget=2,cost_budget=3")


@pytest.mark.parametrize("name", ["tot", "beam"])
def test_a_search_budget_is_now_token_budget(name: str) -> None:
    with pytest.warns(DeprecationWarning, match="use 'token_budget'"):
        old = make_strategy(f"{name}:budget=50")
    assert old.options.token_budget == 50  # type: ignore[attr-defined]


def test_the_context_budget_is_now_token_budget() -> None:
    with pytest.warns(DeprecationWarning, match="ponder.context option 'budget'"):
        options = ContextOptions.model_validate({"budget": 100})
    assert options.token_budget == 100


def test_a_request_may_still_set_the_old_name() -> None:
    request = SamplingFields(model="m")
    ponder = PonderOptions(options={"budget": 2.0})
    assert request_options("auto", ponder, request) == {"cost_budget": 2.0}


def test_the_cli_takes_budget_with_a_notice() -> None:
    runner = CliRunner()
    new = runner.invoke(cli, ["router", "show", "--cost-budget", "2"])
    assert new.exit_code == 0, new.output
    old = runner.invoke(cli, ["router", "show", "--budget", "2"])
    assert old.exit_code == 0 and "lam=" in old.output
    assert "'budget' is deprecated" in old.stderr and "--cost-budget" in old.stderr
    both = runner.invoke(cli, ["router", "show", "--budget", "2", "--cost-budget", "2"])
    assert both.exit_code != 0


def test_the_serving_planner_is_ponder_deploy_and_the_old_name_still_imports() -> None:
    import importlib
    import sys

    import ponder.deploy.memory

    for name in [n for n in sys.modules if n == "ponder.plan" or n.startswith("ponder.plan.")]:
        del sys.modules[name]
    with pytest.warns(DeprecationWarning, match="use ponder.deploy"):
        old = importlib.import_module("ponder.plan")
    assert old.load_architecture is ponder.deploy.load_architecture
    assert importlib.import_module("ponder.plan.memory") is ponder.deploy.memory
