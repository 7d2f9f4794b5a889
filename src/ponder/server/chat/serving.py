"""``/v1/chat/completions``: a request answered by a strategy on the ladder of its model
(the model, then the operator's ``--tiers`` above it), or passed through to the
backend untouched; documents packed first when ``ponder.context`` asks."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from typing import Any

from ponder.backends import wire
from ponder.backends.base import PassThrough
from ponder.context.apply import ContextOptions
from ponder.context.apply import apply as apply_context
from ponder.server import passthrough
from ponder.server.chat import response, sampling
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.protocol import parse_request
from ponder.server.serving import Context, Prepared, Reply, Route, Serving
from ponder.server.streaming import Stream, from_list
from ponder.strategies.tiers import Ladder


class ChatServing:
    """The chat endpoint over the server's shared ``Serving`` (routes, limits, metrics)."""

    def __init__(self, core: Serving) -> None:
        self.core = core

    async def chat(self, raw: Any, ctx: Context) -> Reply:
        request = parse_request(ChatCompletionRequest, raw)
        if request.ponder is not None and request.ponder.context is not None:
            options = request.ponder.context  # text work: off the event loop
            raw, request = await asyncio.to_thread(self._with_context, raw, options, ctx)
        route = self.core.route(request.model, request.ponder, ctx)
        prepared = self.core.prepare(route, request, ctx)
        self.core.admit_work(prepared, request.n, request.completion_budget)
        job = functools.partial(self.answer, request, raw, route, prepared, ctx)
        return await self.core.admitted(ctx, job)

    def _with_context(
        self, raw: dict[str, Any], options: ContextOptions, ctx: Context
    ) -> tuple[dict[str, Any], ChatCompletionRequest]:
        """The request with its documents packed and reordered (``ponder.context``)."""
        messages, report = apply_context(raw["messages"], options)
        ctx.extension["context"] = report.to_dict()
        raw = {**raw, "messages": messages}
        return raw, parse_request(ChatCompletionRequest, raw)

    async def answer(
        self,
        request: ChatCompletionRequest,
        raw: dict[str, Any],
        route: Route,
        prepared: Prepared | None,
        ctx: Context,
    ) -> Reply:
        """The reply to one chat request (a legacy completion's prompt comes here too)."""
        if prepared is None:
            reply = await self._pass(request, raw, route)
            if ctx.extension and isinstance(reply, dict):
                reply.setdefault("ponder", {}).update(ctx.extension)
            return reply
        if request.stream:  # headers now; comments while deciding; then the answer
            return Stream(self._decided_stream(request, route, prepared, ctx))
        return await self._decide(request, route, prepared, ctx)

    async def _decide(
        self, request: ChatCompletionRequest, route: Route, prepared: Prepared, ctx: Context
    ) -> dict[str, Any]:
        table, config = self.core.table, self.core.config
        backend = await table.get(route.model)
        above = [table.tier(t) for t in config.tiers_after(route.model)]
        ladder = Ladder([backend, *above])  # each tier above loaded when first drawn on
        ladders = sampling.ladders(ladder, request.n, request.seed)
        messages = response.chat_messages(request)
        results = await response.solve(messages, prepared.strategy, ladders)
        self.core.record(route.model, prepared.name, response.total_usage(results))
        stop = sampling.stops(request.stop)
        reply = response.chat_response(
            results,
            ctx.request_id,
            request.model,
            prepared.name,
            prepared.ignored,
            sampling.applied(results, stop, request.seed),
        )
        reply["ponder"].update(ctx.extension)
        return reply

    async def _decided_stream(
        self, request: ChatCompletionRequest, route: Route, prepared: Prepared, ctx: Context
    ) -> AsyncIterator[dict[str, Any]]:
        reply = await self._decide(request, route, prepared, ctx)
        for chunk in wire.response_chunks(reply, request.include_usage):
            yield chunk

    async def _pass(
        self, request: ChatCompletionRequest, raw: dict[str, Any], route: Route
    ) -> Reply:
        backend = await self.core.table.get(route.model)
        body = passthrough.forward_body(raw)
        record = functools.partial(self.core.record_raw, route.model)
        if isinstance(backend, PassThrough):
            kind = "chat.completion.chunk"
            return await passthrough.forward(
                backend.chat_raw, backend.stream_raw, body, request, record, kind
            )
        reply = await passthrough.generate_fallback(backend, request, body, request.model)
        record(reply.get("usage"), len(reply["choices"]))
        if request.stream:
            return Stream(from_list(wire.response_chunks(reply, request.include_usage)))
        return reply
