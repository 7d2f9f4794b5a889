import pytest

import ponder


def test_all_names_exist_and_are_exported() -> None:
    for name in ponder.__all__:
        assert hasattr(ponder, name), name
    public = {n for n in dir(ponder) if not n.startswith("_")}
    modules = {
        "api",
        "answers",
        "backends",
        "cost",
        "errors",
        "models",
        "strategies",
        "types",
        "plan",
        "deploy",
        "eval",
        "routing",
        "voting",
        "cascade",
        "plans",
        "report",
        "plugins",
        "server",
        "cli",
        "context",
        "moe",
        "distill",
        "annotations",
        "expressions",
        "budgets",
        "deprecation",
    }
    assert public - modules == set(ponder.__all__) - {"__version__"}


def test_errors_share_one_base() -> None:
    for name in ponder.__all__:
        obj = getattr(ponder, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ponder.PonderError)


@pytest.mark.slow
def test_python_dash_m_ponder_runs_the_cli() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "ponder", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "ask" in result.stdout


def test_planner_errors_are_config_errors() -> None:
    from ponder import errors

    for name in ("PlanError", "ArchitectureError", "LayoutError", "DoesNotFitError"):
        assert issubclass(getattr(errors, name), errors.ConfigError)
