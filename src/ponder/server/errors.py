"""HTTP errors in OpenAI's shape, and the mapping from ponder's exceptions to them.

    {"error": {"message": ..., "type": ..., "param": ..., "code": ...}}

400 invalid_request_error, 401 invalid_api_key, 404 model_not_found, 413 for a body
over the limit, 429 with Retry-After, 502 when a backend fails, 504 when it times out,
499 (logged only) when the client went away. A backend failure says what kind it was,
and the upstream's own message where it sent one, but never a URL or a path: those
are the operator's and go to the server log.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ponder.errors import (
    BackendError,
    BackendTimeoutError,
    BackendUnavailableError,
    ConfigError,
    UnknownModelError,
    UnsupportedOptionError,
    UpstreamError,
)

CLIENT_CLOSED = 499
# A scheme starts only where no scheme character precedes it, so no attempt re-scans a run
# another attempt scanned ("a.a.a.a..." took quadratic time with a plain \b).
_URL = re.compile(r"(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


class ApiError(Exception):
    """An error answered to the client as OpenAI would."""

    def __init__(
        self,
        status: int,
        message: str,
        type_: str = "invalid_request_error",
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return error_body(self.message, self.type, self.param, self.code)


class ClientDisconnected(Exception):
    """The client closed the connection; its work was cancelled."""


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def unauthorized() -> ApiError:
    return ApiError(
        401,
        "missing or wrong API key: send 'Authorization: Bearer <key>'",
        code="invalid_api_key",
    )


def model_not_found(name: str, served: list[str], strategies: list[str]) -> ApiError:
    return ApiError(
        404,
        f"model {name[:100]!r} is not served here: use one of {', '.join(served)}, or "
        f"STRATEGY/MODEL with a strategy among {', '.join(strategies)}",
        param="model",
        code="model_not_found",
    )


def overloaded(retry_after_s: int, why: str) -> ApiError:
    return ApiError(
        429,
        f"the server is at its concurrency limit ({why}): retry after {retry_after_s}s",
        "rate_limit_error",
        code="rate_limit_exceeded",
        headers={"Retry-After": str(retry_after_s)},
    )


def to_api_error(exc: BaseException) -> ApiError:
    """The client-facing form of any exception raised while serving a request."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UnknownModelError):
        return ApiError(404, str(exc), param="model", code="model_not_found")
    if isinstance(exc, UnsupportedOptionError):
        return ApiError(400, str(exc), param=exc.param[:200], code="unsupported_option")
    if isinstance(exc, ConfigError):
        return ApiError(400, str(exc))
    if isinstance(exc, BackendTimeoutError):
        message = "the model's backend did not answer within its timeout"
        return ApiError(504, message, "timeout", code="upstream_timeout")
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        message = "the request did not finish within the server's timeout"
        return ApiError(504, message, "timeout", code="upstream_timeout")
    if isinstance(exc, UpstreamError):
        return _from_upstream(exc)
    if isinstance(exc, BackendUnavailableError):
        message = "the model's backend cannot be reached or loaded (the server log says why)"
        return ApiError(502, message, "upstream_error", code="upstream_unavailable")
    if isinstance(exc, BackendError):
        message = "the model's backend failed (the server log says why)"
        return ApiError(502, message, "upstream_error", code="upstream_error")
    return ApiError(500, "internal server error: see the server log", "server_error")


def public_text(text: str) -> str:
    """An upstream's message without the URLs it may hold."""
    return _URL.sub("<url>", text)


def _from_upstream(exc: UpstreamError) -> ApiError:
    """The upstream's status class, message (less URLs), ``param`` and, for a request it
    refused or rate-limited, its ``code``: a client sees what it would have seen."""
    status = exc.status_code
    text = public_text(str(exc))
    if status in (400, 413, 422):
        return ApiError(400, text, param=exc.param, code=exc.code or "upstream_rejected")
    if status == 429:
        return ApiError(
            429,
            text,
            "rate_limit_error",
            param=exc.param,
            code=exc.code or "upstream_rate_limited",
            headers={"Retry-After": "1"},
        )
    if status in (408, 504):
        return ApiError(504, text, "timeout", param=exc.param, code="upstream_timeout")
    return ApiError(502, text, "upstream_error", param=exc.param, code="upstream_error")
