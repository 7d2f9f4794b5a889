"""Server-sent events: chunks out as ``data:`` lines, errors as an error event.

A stream is a source of OpenAI chunk objects plus the callbacks that must run when
it ends (release the concurrency slot, record usage), however it ends: finished,
failed, timed out, or abandoned by a client that disconnected. While no chunk is
ready (a strategy still deciding, an upstream slow to start) an SSE comment line
goes out every ``heartbeat_s``: clients ignore it, and proxies and read timeouts see
the stream is alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ponder.server.errors import ApiError, to_api_error

log = logging.getLogger("ponder.server")
DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": ponder: working\n\n"


@dataclass
class Stream:
    """Chunks to send, and what to run once the stream is over."""

    chunks: AsyncIterator[dict[str, Any]]
    on_close: list[Callable[[], None]] = field(default_factory=list)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.chunks.aclose()  # type: ignore[attr-defined]
        callbacks, self.on_close = self.on_close, []
        for callback in callbacks:
            callback()


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def event(data: Any) -> bytes:
    return b"data: " + dumps(data) + b"\n\n"


async def sse(
    stream: Stream,
    deadline: float | None,
    on_error: Callable[[ApiError], None],
    heartbeat_s: float = 5.0,
) -> AsyncIterator[bytes]:
    """Encode a stream; a failure after the first byte becomes an error event."""
    iterator = stream.chunks
    pending: asyncio.Future[dict[str, Any]] | None = None
    loop = asyncio.get_running_loop()
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            wait = heartbeat_s if deadline is None else min(heartbeat_s, deadline - loop.time())
            if wait <= 0:
                raise TimeoutError
            done, _ = await asyncio.wait({pending}, timeout=wait)
            if not done:
                yield HEARTBEAT
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                break
            pending = None
            yield event(chunk)
        yield DONE
    except Exception as exc:
        error = to_api_error(exc)
        if error.status >= 500:
            log.warning("stream failed", extra={"error": str(exc), "status": error.status})
        on_error(error)
        yield event(error.body())
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        await stream.close()


class SSEResponse(StreamingResponse):
    """A text/event-stream response that always closes its stream, even when abandoned."""

    media_type = "text/event-stream"

    def __init__(self, stream: Stream, body: AsyncIterator[bytes]) -> None:
        super().__init__(body, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._stream = stream
        self._body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with contextlib.suppress(Exception):
                await self._body.aclose()  # type: ignore[attr-defined]
            await self._stream.close()


async def from_list(chunks: list[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    for chunk in chunks:
        yield chunk
