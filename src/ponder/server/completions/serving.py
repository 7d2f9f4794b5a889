"""``/v1/completions``: forwarded as sent to a backend with the prompt API, else each
prompt answered through chat (``ponder.server.completions.legacy``)."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from ponder.backends.base import CompletesRaw
from ponder.server import passthrough
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.chat.serving import ChatServing
from ponder.server.completions import legacy
from ponder.server.completions.protocol import CompletionRequest
from ponder.server.errors import ApiError
from ponder.server.limits import bounded
from ponder.server.protocol import parse_request
from ponder.server.serving import Context, Reply, Route, Serving
from ponder.server.streaming import Stream


class CompletionServing:
    """The legacy endpoint over the shared ``Serving``, answering through ``chat``."""

    def __init__(self, core: Serving, chat: ChatServing) -> None:
        self.core = core
        self.chat = chat

    async def completion(self, raw: Any, ctx: Context) -> Reply:
        request = parse_request(CompletionRequest, raw)
        if request.ponder is not None and request.ponder.context is not None:
            raise ApiError(
                400,
                "ponder.context works on chat messages: use /v1/chat/completions",
                param="ponder.context",
            )
        route = self.core.route(request.model, request.ponder, ctx)
        if route.strategy is None:
            backend = await bounded(self.core.table.get(route.model), ctx.deadline)
            if isinstance(backend, CompletesRaw):
                return await self._raw_completion(request, raw, route, backend, ctx)
        prompts = legacy.check_legacy(request)
        self.core.admit_answers(len(prompts) * request.n)  # before a body per prompt
        bodies = [legacy.chat_body(raw, prompt) for prompt in prompts]
        first = parse_request(ChatCompletionRequest, bodies[0])
        prepared = self.core.prepare(route, first, ctx)
        self.core.admit_work(prepared, len(prompts) * request.n, first.completion_budget)
        chats = [first, *(parse_request(ChatCompletionRequest, body) for body in bodies[1:])]

        async def run() -> Reply:
            replies = await asyncio.gather(
                *(
                    self.chat.answer(c, b, route, prepared, ctx)
                    for c, b in zip(chats, bodies, strict=True)
                )
            )
            if isinstance(replies[0], Stream):
                replies[0].chunks = legacy.text_chunks(replies[0].chunks)
                return replies[0]
            return legacy.text_response([r for r in replies if isinstance(r, dict)], request.n)

        return await self.core.admitted(ctx, run)

    async def _raw_completion(
        self,
        request: CompletionRequest,
        raw: dict[str, Any],
        route: Route,
        backend: CompletesRaw,
        ctx: Context,
    ) -> Reply:
        """A pass-through legacy request, sent to the backend's prompt API as it came."""
        passthrough.check_fields(request)
        body = legacy.forward_body(raw)
        drawn = max(request.n, request.best_of or 1)  # best_of draws, n are returned
        self.core.admit_work(None, legacy.prompt_count(request.prompt) * drawn, body["max_tokens"])
        record = functools.partial(self.core.record_raw, route.model)

        async def run() -> Reply:
            return await passthrough.forward(
                backend.completion_raw,
                backend.completion_stream_raw,
                body,
                request,
                record,
                "text_completion",
            )

        return await self.core.admitted(ctx, run)
