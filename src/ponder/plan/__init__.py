"""Deprecated name of ``ponder.deploy``, the serving planner: in ponder's code "plan"
now means a routing plan (``ponder.cascade``) only. ``ponder.plan`` and its
submodules (``ponder.plan.memory``...) still import, with a deprecation notice, until
the next release. The ``ponder plan`` command keeps its name."""

from __future__ import annotations

import sys

from ponder import deploy
from ponder.deploy import *  # noqa: F403
from ponder.deploy import __all__ as __all__
from ponder.deprecation import deprecated

deprecated("the module ponder.plan", "ponder.deploy")
for _name, _module in list(sys.modules.items()):
    if _name.startswith(f"{deploy.__name__}."):
        sys.modules[f"{__name__}.{_name.removeprefix(deploy.__name__ + '.')}"] = _module
