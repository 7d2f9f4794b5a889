"""The ASGI layer every request crosses: request id, API key (``scope["ponder.keyed"]``
says whether the request may see what the key guards, for the open routes), access log,
metrics, and a last-resort error in OpenAI's shape. Plain ASGI (not BaseHTTPMiddleware) so
streams are not buffered and the overhead stays in microseconds."""

from __future__ import annotations

import hmac
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ponder.server.errors import ApiError, unauthorized
from ponder.server.metrics import Metrics
from ponder.server.streaming import dumps

log = logging.getLogger("ponder.server")
access = logging.getLogger("ponder.server.access")
PROBES = ("/health", "/ready")  # open to load balancers even when keys are set
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class ServerMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: tuple[str, ...],
        metrics: Metrics,
        open_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.keys = [key.encode() for key in api_keys]
        self.metrics = metrics
        docs = (
            ("/openapi.json", "/docs/oauth2-redirect")
            if {"/docs", "/redoc"} & set(open_paths)
            else ()
        )
        self.open_paths = frozenset({*PROBES, *open_paths, *docs})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = incoming_request_id(scope) or uuid.uuid4().hex
        info: dict[str, Any] = {"request_id": request_id, "model": None, "strategy": None}
        scope["ponder.info"] = info
        header = (b"x-request-id", request_id.encode())
        state = {"status": 500, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        start = time.perf_counter()
        try:
            scope["ponder.keyed"] = keyed = not self.keys or self._authorized(scope)
            if not keyed and scope["path"] not in self.open_paths:
                await send_error(send_with_id, unauthorized())
            else:
                await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error", extra={"request_id": request_id})
            if not state["started"]:
                error = ApiError(500, "internal server error: see the server log", "server_error")
                await send_error(send_with_id, error)
        finally:
            self._finish(scope, info, int(state["status"]), time.perf_counter() - start)

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() != b"bearer":
                    return False
                token = token.strip()
                return any(hmac.compare_digest(token, key) for key in self.keys)
        return False

    def _finish(self, scope: Scope, info: dict[str, Any], status: int, seconds: float) -> None:
        path = scope["path"]
        self.metrics.observe_request(path, info["model"], info["strategy"], status, seconds)
        if status >= 400:
            self.metrics.observe_error(path, info.get("error_type") or str(status))
        access.info(
            "request",
            extra={
                **info,
                "method": scope["method"],
                "path": path,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )


def incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if _REQUEST_ID.match(text) else None
    return None


async def send_error(send: Send, error: ApiError) -> None:
    body = dumps(error.body())
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in error.headers.items()),
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
