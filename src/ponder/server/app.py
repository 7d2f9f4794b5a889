"""Thin routes: read the body, hand it to its endpoint (``chat``, ``completions``, over
the shared ``Serving``), turn the reply into a response.

GET  /v1/models             served ids, and STRATEGY/ID for each strategy
GET  /v1/models/{id}        one of them (also STRATEGY:OPTIONS/ID), else 404 model_not_found
POST /v1/chat/completions   pass-through or strategy; JSON or server-sent events
POST /v1/completions        the prompt API: forwarded to an openai: upstream's own when no
                            strategy is asked, else served through chat (ponder.served_as)
GET  /health                liveness: answers while the process runs
GET  /ready                 every backend loaded and reachable (else 503), checked at most
                            once per ``ready_ttl_s``; says ok, loading or unavailable only,
                            per model only to a caller with the key
GET  /metrics               Prometheus text format

With API keys set, every route but /health and /ready needs one, unless the operator
opens /metrics or the docs (``open_paths``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from ponder.server import body
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.chat.serving import ChatServing
from ponder.server.completions.protocol import CompletionRequest
from ponder.server.completions.serving import CompletionServing
from ponder.server.config import ServerConfig
from ponder.server.errors import (
    CLIENT_CLOSED,
    ApiError,
    ClientDisconnected,
    error_body,
    to_api_error,
)
from ponder.server.limits import Limiter
from ponder.server.metrics import Metrics
from ponder.server.middleware import ServerMiddleware
from ponder.server.protocol import ErrorResponse, ReadyResponse
from ponder.server.serving import Context, Reply, Serving
from ponder.server.streaming import SSEResponse, Stream, sse
from ponder.server.table import ModelTable
from ponder.strategies import strategy_names

log = logging.getLogger("ponder.server")
Handler = Callable[[Any, Context], Awaitable[Reply]]
ERRORS = {
    400: "invalid request, or work over the server's caps",
    401: "missing or wrong API key",
    404: "the model is not served here",
    413: "the body is over the server's limit",
    429: "at the concurrency limit: retry after Retry-After seconds",
    502: "the model's backend failed",
    503: "the model is loading or failed to load",
    504: "the request or the backend timed out",
}
COMPLETION: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the completion (JSON), or server-sent events when stream is true",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    return {code: {"model": ErrorResponse, "description": ERRORS[code]} for code in codes}


POST_ERRORS = _errors(400, 401, 404, 413, 429, 502, 503, 504)


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The proxy as an ASGI app; backends load when it starts (lifespan)."""
    config = config or ServerConfig()
    table = ModelTable(config.models)
    metrics = Metrics(table.names)
    chats: dict[str, ChatServing] = {}  # set when the app starts (lifespan)
    legacies: dict[str, CompletionServing] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limiter = Limiter(config.max_concurrency, config.max_queue)
        metrics.in_flight.set_function(lambda: limiter.in_flight)
        metrics.queued.set_function(lambda: limiter.queued)
        core = app.state.serving = Serving(config, table, limiter, metrics)
        chats["chat"] = chat = ChatServing(core)
        legacies["completions"] = CompletionServing(core, chat)
        table.start()
        try:
            yield
        finally:
            await table.aclose()

    app = FastAPI(
        title="ponder",
        summary="OpenAI-compatible proxy with inference-time compute",
        lifespan=lifespan,
    )
    app.add_middleware(
        ServerMiddleware, api_keys=config.api_keys, metrics=metrics, open_paths=config.open_paths
    )
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    _install_schemas(app)

    async def serve(request: Request, handler: Handler) -> Response:
        return await _serve(request, handler, config, metrics)

    @app.post(
        "/v1/chat/completions",
        openapi_extra=_body_schema(ChatCompletionRequest),
        responses={**COMPLETION, **POST_ERRORS},
    )
    async def chat_completions(request: Request) -> Response:
        return await serve(request, lambda raw, ctx: chats["chat"].chat(raw, ctx))

    @app.post(
        "/v1/completions",
        openapi_extra=_body_schema(CompletionRequest),
        responses={**COMPLETION, **POST_ERRORS},
    )
    async def completions(request: Request) -> Response:
        return await serve(request, lambda raw, ctx: legacies["completions"].completion(raw, ctx))

    @app.get("/v1/models", responses=_errors(401))
    async def list_models() -> dict[str, Any]:
        created = int(time.time())
        ids = [*table.names, *(f"{s}/{m}" for s in strategy_names() for m in table.names)]
        return {"object": "list", "data": [_model_card(i, created) for i in ids]}

    @app.get("/v1/models/{model_id:path}", responses=_errors(401, 404))
    async def retrieve_model(model_id: str) -> Response:
        try:
            chats["chat"].core.resolve(model_id)
        except ApiError as error:
            return _error_response(error, {})
        return JSONResponse(_model_card(model_id, int(time.time())))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        response_model=ReadyResponse,
        responses={503: {"model": ReadyResponse, "description": "a model is not ready"}},
    )
    async def ready(request: Request) -> JSONResponse:
        checks = await table.check(config.ready_timeout_s, config.ready_ttl_s)
        ok = all(v == "ok" for v in checks.values())
        body: dict[str, Any] = {"status": "ready" if ok else "unavailable"}
        if request.scope.get("ponder.keyed"):  # model names are behind the key
            body["models"] = checks
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", response_class=PlainTextResponse, responses=_errors(401))
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


async def _serve(
    request: Request, handler: Handler, config: ServerConfig, metrics: Metrics
) -> Response:
    info: dict[str, Any] = request.scope.get("ponder.info") or {}
    loop = asyncio.get_running_loop()
    ctx = Context(
        request_id=str(info.get("request_id", "")),
        info=info,
        receive=request.receive,
        deadline=loop.time() + config.timeout_s,
    )
    try:
        raw = await body.decode(await body.read_limited(request, config.max_body_bytes))
        reply = await handler(raw, ctx)
    except (ClientDisconnected, ClientDisconnect):
        info["error_type"] = "client_closed"
        return Response(status_code=CLIENT_CLOSED)
    except Exception as exc:
        error = to_api_error(exc)
        if error.status >= 500:
            log.warning(
                "request failed",
                extra={**info, "error": f"{type(exc).__name__}: {exc}"},
                exc_info=error.status == 500,
            )
        return _error_response(error, info)
    if isinstance(reply, Stream):

        def on_error(error: ApiError) -> None:
            info["error_type"] = f"stream_{error.type}"
            metrics.observe_error(request.url.path, info["error_type"])

        return SSEResponse(reply, sse(reply, ctx.deadline, on_error, config.heartbeat_s))
    return JSONResponse(reply)


def _model_card(model_id: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": "ponder"}


def _error_response(error: ApiError, info: dict[str, Any]) -> JSONResponse:
    info["error_type"] = error.code or error.type
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = "not_found" if exc.status_code == 404 else None
    body = error_body(str(exc.detail), "invalid_request_error", None, code)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _body_schema(model: type[Any]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def _install_schemas(app: FastAPI) -> None:
    """Publish the request models in the OpenAPI document (the routes read raw bodies)."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = base()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for model in (ChatCompletionRequest, CompletionRequest):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
