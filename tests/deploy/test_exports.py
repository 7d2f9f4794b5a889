"""``ponder.deploy.__all__`` lists real, importable names, including those other modules use."""

from __future__ import annotations

import pytest

import ponder.deploy


def test_all_names_exist() -> None:
    for name in ponder.deploy.__all__:
        assert hasattr(ponder.deploy, name), name


def test_cost_module_contract() -> None:
    arch = ponder.deploy.load_architecture("mixtral-8x7b")
    assert isinstance(arch.total_params, int) and isinstance(arch.active_params, int)
    assert arch.active_params < arch.total_params
    assert ponder.deploy.kv_bytes_per_token(arch) == ponder.deploy.kv_bytes_per_token(arch, "fp16")


@pytest.mark.slow
def test_importing_the_planner_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = "import sys, ponder.deploy; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
