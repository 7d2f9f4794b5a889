"""``ponder.context`` is the serving side only: importing it loads no sweep and no eval store."""

import json
import subprocess
import sys

import pytest

CODE = """
import json, sys
import ponder.context
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("ponder.eval", "ponder.context")))))
"""


@pytest.mark.slow
def test_importing_ponder_context_loads_no_sweep_and_not_the_eval_store():
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout)
    assert "ponder.eval.store" not in loaded
    assert not [m for m in loaded if m.startswith("ponder.eval")], loaded
    assert set(loaded) == {
        "ponder.context",
        "ponder.context.apply",
        "ponder.context.reorder",
        "ponder.context.tokens",
    }
