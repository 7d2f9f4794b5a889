"""Admission and time limits: a concurrency limit with a bounded queue, a per-request
deadline, and cancelling work whose client went away."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any, TypeVar

from ponder.server.errors import ClientDisconnected, overloaded

T = TypeVar("T")
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class Limiter:
    """At most ``max_concurrent`` requests run; up to ``max_queue`` more wait in FIFO order.

    A request that finds the queue full, or whose deadline passes while it waits, gets
    a 429 with ``Retry-After``.
    """

    def __init__(self, max_concurrent: int, max_queue: int, retry_after_s: int = 1) -> None:
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        self.retry_after_s = retry_after_s
        self.in_flight = 0
        self.queued = 0
        self._semaphore = asyncio.Semaphore(max_concurrent)

    async def acquire(self, deadline: float | None = None) -> None:
        if self._semaphore.locked():
            if self.queued >= self.max_queue:
                raise overloaded(self.retry_after_s, f"{self.max_concurrent} running, queue full")
            self.queued += 1
            try:
                async with deadline_at(deadline):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise overloaded(self.retry_after_s, "timed out waiting in the queue") from None
            finally:
                self.queued -= 1
        else:
            await self._semaphore.acquire()
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1
        self._semaphore.release()


@contextlib.asynccontextmanager
async def deadline_at(when: float | None) -> AsyncIterator[None]:
    """Raise TimeoutError in the body once the event loop's clock passes ``when``."""
    if when is None:
        yield
        return
    if sys.version_info >= (3, 11):
        async with asyncio.timeout_at(when):
            yield
        return
    # Python 3.10: cancel the current task at the deadline and report a timeout.
    task = asyncio.current_task()
    if task is None:  # pragma: no cover - always inside a task under an ASGI server
        yield
        return
    fired: list[bool] = []

    def expire() -> None:
        fired.append(True)
        task.cancel()

    handle = asyncio.get_running_loop().call_at(when, expire)
    try:
        yield
    except asyncio.CancelledError:
        if fired:
            raise TimeoutError from None
        raise
    finally:
        handle.cancel()


async def bounded(work: Awaitable[T], deadline: float | None) -> T:
    async with deadline_at(deadline):
        return await work


async def cancel_on_disconnect(receive: Receive | None, work: Awaitable[T]) -> T:
    """Await ``work``; cancel it and raise ClientDisconnected if the client goes away.

    Call only after the request body has been read: ``receive`` then returns only
    ``http.disconnect``.
    """
    if receive is None:
        return await work
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise ClientDisconnected("the client disconnected")


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
