"""The strategy a request is answered by: built from its spec and the request's checked
options (cached), and the request fields it cannot honour or ignores. How its answers
are shaped is the chat endpoint's (``ponder.server.chat.response``)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ponder.server.errors import ApiError
from ponder.server.protocol import SamplingFields
from ponder.strategies import make_strategy, parse_strategy_spec, strategy_options
from ponder.strategies.base import Strategy

REJECTED = (
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "response_format",
    "logprobs",
    "top_logprobs",
    "logit_bias",
)


def strategy_name(spec: str) -> str:
    return parse_strategy_spec(spec)[0]


class StrategyBuilder:
    """Strategies from specs plus the request's checked options, cached (strategies hold
    no state). ``operator`` holds the operator's settings (the router), given to every
    strategy whose options declare them, when it is built."""

    def __init__(self, operator: dict[str, Any] | None = None, size: int = 256) -> None:
        self.operator = {k: v for k, v in (operator or {}).items() if v is not None}
        self.size = size
        self._cache: OrderedDict[tuple[Any, ...], Strategy] = OrderedDict()

    @property
    def cache_size(self) -> int:
        return len(self._cache)

    def build(self, spec: str, overrides: dict[str, Any]) -> Strategy:
        key = (spec, tuple(sorted(overrides.items())))
        if (found := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            return found
        declared = strategy_options(strategy_name(spec))
        fields = declared.model_fields if declared is not None else {}
        given = {k: v for k, v in self.operator.items() if k in fields}
        strategy = make_strategy(spec, **{**given, **overrides})
        self._cache[key] = strategy
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return strategy


def ignored_fields(request: SamplingFields, used: dict[str, Any]) -> list[str]:
    """Reject what a strategy cannot honour; return the fields it ignores."""
    present = request.model_fields_set | set(request.model_extra or {})
    for name in REJECTED:
        if name in present and getattr(request, name, None) not in (None, False):
            raise ApiError(
                400,
                f"{name} cannot be combined with a strategy: drop the strategy to pass the "
                "request through to the model",
                param=name,
            )
    handled = {"model", "messages", "prompt", "n", "stream", "stream_options", "ponder"}
    handled |= {"stop", "seed"}  # stop cuts the answer's text; seed seeds every draw
    if "max_tokens" in used:
        handled |= {"max_tokens", "max_completion_tokens"}
    return sorted(present - handled - set(used))
