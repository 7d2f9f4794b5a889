"""Ctrl-C for long async commands: the first stops the work at once (in-flight model
calls are cancelled), so the command can print what it did and exit 130; a second
exits immediately."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

T = TypeVar("T")

EXIT_INTERRUPTED = 130


def run_interruptible(job: Coroutine[Any, Any, T]) -> T | None:
    """``asyncio.run(job)``; None when Ctrl-C (SIGINT or SIGTERM) stopped it."""
    return asyncio.run(_guarded(job))


async def _guarded(job: Coroutine[Any, Any, T]) -> T | None:
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(job)
    stopped = [False]

    def stop() -> None:
        if stopped[0]:
            click.echo("interrupted again: exiting now", err=True)
            os._exit(EXIT_INTERRUPTED)
        stopped[0] = True
        click.echo("\ninterrupted: stopping (Ctrl-C again to exit at once)", err=True)
        task.cancel()

    # the handlers stay until asyncio.run closes the loop, so a second Ctrl-C still
    # exits while asyncio.run waits for worker threads that cannot be cancelled
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        return await task
    except asyncio.CancelledError:
        if stopped[0]:
            return None
        raise
