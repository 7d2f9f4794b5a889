"""What every endpoint shares behind the routes: route a request to a model and maybe a
strategy, prepare the strategy (a bad option is a 400 before any work), admit the work
under the operator's caps and the concurrency limit, run it within its deadline
(cancelled if the client leaves), and count what it spent. The endpoints' own logic is
in ``ponder.server.chat`` and ``ponder.server.completions``.

A request names its strategy in the model field (``sc/smollm2-135m``) or in the
``ponder`` extension (``{"strategy": "sc", "n": 8, "early_stop": "esc"}``, which
wins over the prefix; ``n``, ``early_stop`` or ``options`` alone mean ``sc``).
Without one it passes through to the backend untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ponder.errors import ConfigError
from ponder.routing.router_file import load_router
from ponder.server import compute, passthrough, policy
from ponder.server.chat.protocol import ChatCompletionRequest
from ponder.server.config import ServerConfig
from ponder.server.errors import model_not_found
from ponder.server.limits import Limiter, Receive, bounded, cancel_on_disconnect
from ponder.server.metrics import Metrics
from ponder.server.protocol import PonderOptions, SamplingFields
from ponder.server.streaming import Stream
from ponder.server.table import ModelTable
from ponder.strategies import strategy_names
from ponder.strategies.base import Strategy
from ponder.types import Usage

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
class Prepared:
    """The strategy a request is answered by, built before any work, and the request
    fields it ignores."""

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

    def prepare(self, route: Route, request: SamplingFields, ctx: Context) -> Prepared | None:
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
        return Prepared(strategy, name, ignored)

    def admit_work(self, prepared: Prepared | None, answers: int, max_tokens: int | None) -> None:
        """Refuse, before any model call, a request whose total work is over the caps."""
        policy.check_work(prepared.strategy if prepared else None, answers, max_tokens, self.caps)

    def admit_answers(self, answers: int) -> None:
        """Refuse a request whose answers alone are over the sample cap (one each)."""
        policy.check_answers(answers, self.caps)

    async def admitted(self, ctx: Context, run: Callable[[], Awaitable[Reply]]) -> Reply:
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

    def record(self, model: str, strategy: str, usage: Usage) -> None:
        """Count what a strategy's answers spent."""
        self.metrics.observe_usage(
            model,
            strategy,
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.samples,
            usage.requests,
        )

    def record_raw(self, model: str, usage: dict[str, Any] | None, samples: int) -> None:
        """Count what a pass-through request spent, from its upstream's usage object."""
        usage = usage or {}
        self.metrics.observe_usage(
            model,
            None,
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            samples,
            1,
        )
