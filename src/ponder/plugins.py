"""Registries filled from entry points, the way installed packages extend ponder.

A package adds a backend or a strategy by declaring an entry point, exactly as ponder
declares its own built-ins in ``pyproject.toml``:

    [project.entry-points."ponder.backends"]
    echo = "my_package:echo_factory"          # factory(target, options) -> Backend

    [project.entry-points."ponder.strategies"]
    shout = "my_package:SHOUT"                # a ponder.strategies.StrategyEntry

Entry points are read on first use, and read again when a name is not found (a
package installed since). ``register`` adds one in code; it wins over an entry point
of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from ponder.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> plugin, from the entry points of ``group`` and explicit registrations.

    An entry point is loaded only when its name is asked for, so one broken plugin
    breaks only itself.
    """

    def __init__(self, group: str, check: Callable[[object], T]) -> None:
        self.group = group
        self._check = check
        self._points: dict[str, EntryPoint] = {}
        self._loaded: dict[str, T] = {}
        self._given: dict[str, T] = {}
        self._scanned = False

    def register(self, name: str, plugin: T) -> None:
        self._given[name] = plugin

    def get(self, name: str) -> T | None:
        if name in self._given:
            return self._given[name]
        if name not in self._loaded:
            if name not in self._points:
                self._scan(force=self._scanned)
            point = self._points.get(name)
            if point is None:
                return None
            self._loaded[name] = self._load(point)
        return self._loaded[name]

    def names(self) -> list[str]:
        self._scan(force=False)
        return sorted({*self._points, *self._given})

    def _scan(self, force: bool) -> None:
        if self._scanned and not force:
            return
        self._scanned = True
        for point in entry_points(group=self.group):
            self._points.setdefault(point.name, point)

    def _load(self, point: EntryPoint) -> T:
        try:
            return self._check(point.load())
        except ConfigError as exc:
            raise ConfigError(f"the {self.group} plugin {point.name!r}: {exc}") from exc
        except Exception as exc:
            raise ConfigError(
                f"the {self.group} plugin {point.name!r} ({point.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
