"""Old spellings of user-facing names, accepted for one release with a notice.

    deprecated("auto's option 'budget'", "cost_budget")     warns once per call site
    renamed(values, {"budget": "cost_budget"}, "auto")     the values with new names

The notice is a ``DeprecationWarning`` whose message starts with ``ponder:``; the CLI
shows these (Python hides DeprecationWarnings outside ``__main__`` by default), and a
test suite run with warnings as errors sees them as errors.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from ponder.errors import ConfigError

PREFIX = "ponder: "


def deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Say that ``old`` is now ``new`` and goes in the next release."""
    warnings.warn(
        f"{PREFIX}{old} is deprecated: use {new} (the old spelling goes in the next release)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


def renamed(values: Mapping[str, Any], names: Mapping[str, str], where: str) -> dict[str, Any]:
    """``values`` with each old name in ``names`` given under its new one, with a notice;
    both at once is an error."""
    out = dict(values)
    for old, new in names.items():
        if old not in out:
            continue
        if new in out:
            raise ConfigError(f"{where}: give {new} only ({old} is its old name)")
        deprecated(f"{where} option {old!r}", repr(new), stacklevel=4)
        out[new] = out.pop(old)
    return out
