"""Reading a request body safely: a size limit enforced while reading (with or without a
Content-Length), a JSON parse that cannot blow the stack, no lone surrogates (they
cannot be encoded to send upstream), no ``NaN`` or ``Infinity`` (not JSON: upstreams
would get them as they came), and a large body decoded on a worker thread, not on the
event loop."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any, Protocol

from ponder.server.errors import ApiError

MAX_DEPTH = 64
INLINE_BYTES = 64 * 1024  # larger bodies are decoded off the event loop


class _Streaming(Protocol):
    @property
    def headers(self) -> Any: ...

    def stream(self) -> Any: ...


def too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"the request body is over this server's limit of {limit} bytes",
        code="request_too_large",
    )


async def read_limited(request: _Streaming, limit: int) -> bytes:
    """The whole body, or a 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise too_large(limit)
    return bytes(data)


async def decode(data: bytes) -> Any:
    """``decode_json`` of ``data``, on a worker thread when the body is large."""
    if len(data) <= INLINE_BYTES:
        return decode_json(data)
    return await asyncio.to_thread(decode_json, data)


def decode_json(data: bytes) -> Any:
    """Parse a JSON body; too deep, not JSON, or holding a lone surrogate is a 400."""
    try:
        value = json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise ApiError(400, f"the request body nests deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON") from None
    check_tree(value)
    return value


def _not_json(name: str) -> Any:
    raise ApiError(400, f"the request body holds {name}, which JSON does not have: send a number")


def check_tree(value: Any) -> None:
    """Walk the parsed body without recursion: bounded depth, encodable strings only,
    finite numbers only (``1e999`` parses as infinity)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _encodable(item)
            continue
        if isinstance(item, float) and not math.isfinite(item):
            _not_json("a number too large for a double (infinity)")
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_DEPTH:
            raise ApiError(400, f"the request body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _encodable(key)
                stack.append((child, depth + 1))
        else:
            stack.extend((child, depth + 1) for child in item)


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "the request body holds a lone UTF-16 surrogate (\\ud800-\\udfff escape)"
        ) from None
