"""The backends behind the served model ids, loaded in the background.

Loading starts when the app starts; ``/health`` answers at once, ``/ready`` says
when every backend is loaded and reachable, and a request for a model still
loading waits for it (within its deadline). What went wrong goes to the server log
only: clients see ``ok``, ``loading`` or ``unavailable``, never a URL or a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.errors import ConfigError
from ponder.server.errors import ApiError
from ponder.strategies.tiers import Tier

log = logging.getLogger("ponder.server")


class ModelTable:
    """Served id -> backend. Entries are spec strings (loaded here) or backend objects."""

    def __init__(self, entries: dict[str, Any]) -> None:
        for name, entry in entries.items():
            if not isinstance(entry, (str, Backend)):
                raise ConfigError(
                    f"model {name!r} must be a spec string or a Backend "
                    "(generate, check, aclose and the capability flags)"
                )
        self._entries = dict(entries)
        self._tasks: dict[str, asyncio.Future[Backend]] = {}
        self._owned: set[str] = set()
        self._checked: tuple[float, dict[str, str]] | None = None
        self._checking: asyncio.Lock | None = None

    @property
    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def start(self) -> None:
        """Begin loading every backend given as a spec."""
        loop = asyncio.get_running_loop()
        for name, entry in self._entries.items():
            future: asyncio.Future[Backend]
            if isinstance(entry, str):
                future = asyncio.ensure_future(asyncio.to_thread(load_backend, entry, False))
                future.add_done_callback(_log_load(name, entry))
                self._owned.add(name)
            else:
                future = loop.create_future()
                future.set_result(entry)
            self._tasks[name] = future

    def tier(self, name: str) -> Tier:
        """The served model ``name`` as a tier, loaded from this table on first use."""
        entry = self._entries[name]
        if isinstance(entry, str):
            return Tier(entry, lambda _spec: self.get(name))
        return Tier.of(entry)

    async def get(self, name: str) -> Backend:
        if name not in self._tasks:
            raise ApiError(503, "the server is starting: retry shortly", "server_error")
        try:
            return await asyncio.shield(self._tasks[name])
        except Exception as exc:
            raise ApiError(
                503,
                f"model {name!r} is unavailable: it failed to load (the server log says why)",
                "server_error",
                code="model_unavailable",
            ) from exc

    async def check(self, timeout_s: float, ttl_s: float = 0.0) -> dict[str, str]:
        """'ok', 'loading' or 'unavailable' per model, checked at most once per ``ttl_s``
        however many callers ask (the details go to the log)."""
        if self._checking is None:
            self._checking = asyncio.Lock()
        async with self._checking:
            now = asyncio.get_running_loop().time()
            if self._checked is not None and now - self._checked[0] < ttl_s:
                return dict(self._checked[1])
            states = await self._check_all(timeout_s)
            loading = any(state == "loading" for state in states.values())
            self._checked = None if loading else (now, states)
            return states

    async def _check_all(self, timeout_s: float) -> dict[str, str]:
        names = list(self._entries)
        results = await asyncio.gather(
            *(self._check_one(name, timeout_s) for name in names), return_exceptions=True
        )
        states = {}
        for name, result in zip(names, results, strict=True):
            if result is None:
                states[name] = "ok"
            elif isinstance(result, _Loading):
                states[name] = "loading"
            else:
                states[name] = "unavailable"
                log.warning("model check failed", extra={"model": name, "error": _describe(result)})
        return states

    async def _check_one(self, name: str, timeout_s: float) -> None:
        task = self._tasks.get(name)
        if task is None or not task.done():
            raise _Loading()
        await asyncio.wait_for(task.result().check(), timeout_s)

    async def aclose(self) -> None:
        for name, task in self._tasks.items():
            if name not in self._owned:
                continue
            if not task.done():
                task.cancel()
                continue
            if task.cancelled() or task.exception() is not None:
                continue
            with contextlib.suppress(Exception):
                await task.result().aclose()


class _Loading(Exception):
    """The model is still loading."""


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _log_load(name: str, spec: str) -> Any:
    def done(future: asyncio.Future[Backend]) -> None:
        if future.cancelled():
            return
        if (exc := future.exception()) is not None:
            log.error(
                "model failed to load", extra={"model": name, "spec": spec, "error": str(exc)}
            )
        else:
            log.info("model loaded", extra={"model": name, "spec": spec})

    return done
