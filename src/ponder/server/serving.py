"""The logic behind the routes: route a request to a model and maybe a strategy,
admit it under the concurrency limit, run it within its deadline (cancelled if the
client leaves), and shape the answer.

A request names its strategy in the model field (``sc/smollm2-135m``) or in the
``ponder`` extension (``{"strategy": "sc", "n": 8, "early_stop": "esc"}``, which
wins over the prefix; ``n``, ``early_stop`` or ``options`` alone mean ``sc``).
Without one it passes through to the backend untouched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ponder.backends import wire
from ponder.backends.base import CompletesRaw, PassThrough
from ponder.context.apply import ContextOptions
from ponder.context.apply import apply as apply_context
from ponder.errors import ConfigError
from ponder.routing.router_file import load_router
from ponder.server import compute, legacy, passthrough, policy, sampling
from ponder.server.config import ServerConfig
from ponder.server.errors import ApiError, model_not_found
from ponder.server.limits import Limiter, Receive, bounded, cancel_on_disconnect
from ponder.server.metrics import Metrics
from ponder.server.protocol import (
    ChatCompletionRequest,
    CompletionRequest,
    PonderOptions,
    SamplingFields,
    parse_request,
)
from ponder.server.streaming import Stream, from_list
from ponder.server.table import ModelTable
from ponder.strategies import strategy_names
from ponder.strategies.base import Strategy
from ponder.strategies.tiers import Ladder
from ponder.types import Result

log = logging.getLogger("ponder.server")
Reply = dict[str, Any] | Stream


@dataclass
class Context:
    """One request as the logic sees it; ``info`` feeds the access log and metrics."""

    request_id: str
    info: dict[str, Any] = field(default_factory=dict)
    receive: Receive | None = None
    deadline: float | None = None
    extension: dict[str, Any] = field(default_factory=dict)  # added to ``ponder`` in replies


@dataclass(frozen=True)
class Route:
    model: str
    strategy: str | None = None


@dataclass(frozen=True)
class Plan:
    strategy: Strategy
    name: str
    ignored: list[str]


class Serving:
    def __init__(
        self, config: ServerConfig, table: ModelTable, limiter: Limiter, metrics: Metrics
    ) -> None:
        self.config = config
        self.table = table
        self.limiter = limiter
        self.metrics = metrics
        self.caps = config.caps
        router = load_router(config.router) if config.router else None
        self.builder = compute.StrategyBuilder({"router": router})

    async def chat(self, raw: Any, ctx: Context) -> Reply:
        request = parse_request(ChatCompletionRequest, raw)
        if request.ponder is not None and request.ponder.context is not None:
            options = request.ponder.context  # text work: off the event loop
            raw, request = await asyncio.to_thread(self._with_context, raw, options, ctx)
        route = self.route(request.model, request.ponder, ctx)
        plan = self.plan(route, request, ctx)
        self.admit_work(plan, request.n, request.completion_budget)
        return await self._admitted(ctx, lambda: self._answer(request, raw, route, plan, ctx))

    async def completion(self, raw: Any, ctx: Context) -> Reply:
        request = parse_request(CompletionRequest, raw)
        if request.ponder is not None and request.ponder.context is not None:
            raise ApiError(
                400,
                "ponder.context works on chat messages: use /v1/chat/completions",
                param="ponder.context",
            )
        route = self.route(request.model, request.ponder, ctx)
        if route.strategy is None:
            backend = await bounded(self.table.get(route.model), ctx.deadline)
            if isinstance(backend, CompletesRaw):
                return await self._raw_completion(request, raw, route, backend, ctx)
        prompts = legacy.check_legacy(request)
        bodies = [legacy.chat_body(raw, prompts[0])]
        first = parse_request(ChatCompletionRequest, bodies[0])
        plan = self.plan(route, first, ctx)
        self.admit_work(plan, len(prompts) * request.n, first.completion_budget)
        bodies += [legacy.chat_body(raw, prompt) for prompt in prompts[1:]]
        chats = [first, *(parse_request(ChatCompletionRequest, body) for body in bodies[1:])]

        async def run() -> Reply:
            replies = await asyncio.gather(
                *(self._answer(c, b, route, plan, ctx) for c, b in zip(chats, bodies, strict=True))
            )
            if isinstance(replies[0], Stream):
                replies[0].chunks = legacy.text_chunks(replies[0].chunks)
                return replies[0]
            return legacy.text_response([r for r in replies if isinstance(r, dict)], request.n)

        return await self._admitted(ctx, run)

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
        self.admit_work(None, legacy.prompt_count(request.prompt) * drawn, body["max_tokens"])

        record = functools.partial(self._record_raw, route.model)

        async def run() -> Reply:
            return await passthrough.forward(
                backend.completion_raw,
                backend.completion_stream_raw,
                body,
                request,
                record,
                "text_completion",
            )

        return await self._admitted(ctx, run)

    def _with_context(
        self, raw: dict[str, Any], options: ContextOptions, ctx: Context
    ) -> tuple[dict[str, Any], ChatCompletionRequest]:
        """The request with its documents packed and reordered (``ponder.context``)."""
        messages, report = apply_context(raw["messages"], options)
        ctx.extension["context"] = report.to_dict()
        raw = {**raw, "messages": messages}
        return raw, parse_request(ChatCompletionRequest, raw)

    def route(self, model: str, ponder: PonderOptions | None, ctx: Context) -> Route:
        route = self.resolve(model)
        if ponder is not None:
            if ponder.strategy:
                route = Route(route.model, ponder.strategy)
            elif route.strategy is None and (
                ponder.n is not None or ponder.early_stop is not None or ponder.options
            ):
                route = Route(route.model, "sc")
        ctx.info["model"] = route.model
        return route

    def resolve(self, model: str) -> Route:
        """The served model and strategy a model id names, or a 404 in OpenAI's shape."""
        if model in self.table:
            return Route(model)
        prefix, _, rest = model.partition("/")
        if rest in self.table:
            try:
                known = compute.strategy_name(prefix) in strategy_names()
            except ConfigError:
                known = False
            if known:
                return Route(rest, prefix)
        raise model_not_found(model, self.table.names, strategy_names())

    def plan(self, route: Route, request: SamplingFields, ctx: Context) -> Plan | None:
        """Build the strategy now, so that a bad option is a 400 before any work."""
        if route.strategy is None:
            if isinstance(request, ChatCompletionRequest):
                passthrough.check_fields(request)
            if unknown := request.unknown_fields():
                log.debug("forwarding unknown fields", extra={"fields": unknown, **ctx.info})
            return None
        name = compute.strategy_name(route.strategy)
        ctx.info["strategy"] = name
        overrides = policy.request_options(route.strategy, request.ponder, request)
        ignored = compute.ignored_fields(request, overrides)
        strategy = self.builder.build(route.strategy, overrides)
        if ignored:
            log.info("ignored fields", extra={"fields": ignored, **ctx.info})
        return Plan(strategy, name, ignored)

    def admit_work(self, plan: Plan | None, answers: int, max_tokens: int | None) -> None:
        """Refuse, before any model call, a request whose total work is over the caps."""
        policy.check_work(plan.strategy if plan else None, answers, max_tokens, self.caps)

    async def _admitted(self, ctx: Context, run: Callable[[], Awaitable[Reply]]) -> Reply:
        """Hold a concurrency slot while ``run`` works and, for a stream, until it ends."""
        await self.limiter.acquire(ctx.deadline)
        try:
            reply = await cancel_on_disconnect(ctx.receive, bounded(run(), ctx.deadline))
        except BaseException:
            self.limiter.release()
            raise
        if isinstance(reply, Stream):
            reply.on_close.append(self.limiter.release)
        else:
            self.limiter.release()
        return reply

    async def _answer(
        self,
        request: ChatCompletionRequest,
        raw: dict[str, Any],
        route: Route,
        plan: Plan | None,
        ctx: Context,
    ) -> Reply:
        if plan is None:
            reply = await self._pass(request, raw, route)
            if ctx.extension and isinstance(reply, dict):
                reply.setdefault("ponder", {}).update(ctx.extension)
            return reply
        if request.stream:  # headers now; comments while deciding; then the answer
            return Stream(self._decided_stream(request, route, plan, ctx))
        return await self._decide(request, route, plan, ctx)

    async def _decide(
        self, request: ChatCompletionRequest, route: Route, plan: Plan, ctx: Context
    ) -> dict[str, Any]:
        backend = await self.table.get(route.model)
        above = [self.table.tier(t) for t in self.config.tiers_after(route.model)]
        ladder = Ladder([backend, *above])  # each tier above loaded when first drawn on
        ladders = sampling.ladders(ladder, request.n, request.seed)
        results = await compute.solve(compute.chat_messages(request), plan.strategy, ladders)
        self._record(route.model, plan.name, results)
        stop = sampling.stops(request.stop)
        response = compute.chat_response(
            results,
            ctx.request_id,
            request.model,
            plan.name,
            plan.ignored,
            sampling.applied(results, stop, request.seed),
        )
        response["ponder"].update(ctx.extension)
        return response

    async def _decided_stream(
        self, request: ChatCompletionRequest, route: Route, plan: Plan, ctx: Context
    ) -> AsyncIterator[dict[str, Any]]:
        response = await self._decide(request, route, plan, ctx)
        for chunk in wire.response_chunks(response, request.include_usage):
            yield chunk

    async def _pass(
        self, request: ChatCompletionRequest, raw: dict[str, Any], route: Route
    ) -> Reply:
        backend = await self.table.get(route.model)
        body = passthrough.forward_body(raw)
        record = functools.partial(self._record_raw, route.model)
        if isinstance(backend, PassThrough):
            kind = "chat.completion.chunk"
            return await passthrough.forward(
                backend.chat_raw, backend.stream_raw, body, request, record, kind
            )
        response = await passthrough.generate_fallback(backend, request, body, request.model)
        record(response.get("usage"), len(response["choices"]))
        if request.stream:
            return Stream(from_list(wire.response_chunks(response, request.include_usage)))
        return response

    def _record(self, model: str, strategy: str, results: list[Result]) -> None:
        usage = compute.total_usage(results)
        self.metrics.observe_usage(
            model,
            strategy,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.samples,
            usage.requests,
        )

    def _record_raw(self, model: str, usage: dict[str, Any] | None, samples: int) -> None:
        usage = usage or {}
        self.metrics.observe_usage(
            model,
            None,
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            samples,
            1,
        )
