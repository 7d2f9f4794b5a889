"""Inference-time compute strategies, chosen by a spec such as ``sc:n=16,stop=esc``.

    direct                     one greedy sample (the 1x baseline)
    cot                        one sample asked to reason step by step
    sc:n=8,stop=esc            self-consistency with early stopping (esc, beta, margin, fixed)
    bon:n=8,scorer=logprob     best-of-N with a scorer (logprob, judge, or a callable)
    auto                       the adaptive router (ponder.routing)

Third-party strategies register with ``register_strategy`` like the built-ins.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ponder.errors import ConfigError, UnknownStrategyError
from ponder.strategies.base import Options, Strategy
from ponder.strategies.best_of_n import BestOfN, BoNOptions, bon_factory
from ponder.strategies.direct import ChainOfThought, Direct, DirectOptions
from ponder.strategies.self_consistency import SCOptions, SelfConsistency

Factory = Callable[[dict[str, Any]], Strategy]
_FACTORIES: dict[str, Factory] = {}
_LAZY = {"auto": "ponder.routing"}


def register_strategy(name: str, factory: Factory) -> None:
    _FACTORIES[name] = factory


def parse_strategy_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``name:k=v,k=v`` -> (name, options); values stay strings for pydantic to coerce."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("empty strategy: use direct, cot, sc, bon or auto")
    name, _, rest = spec.strip().partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"strategy option {item!r} in {spec!r} must look like key=value")
        options[key.strip()] = value.strip()
    return name, options


def make_strategy(spec: str, **overrides: Any) -> Strategy:
    """Build a strategy from its spec; keyword overrides win over the spec's options."""
    name, options = parse_strategy_spec(spec)
    options.update({k: v for k, v in overrides.items() if v is not None})
    if name not in _FACTORIES and name in _LAZY:
        importlib.import_module(_LAZY[name])
    if name not in _FACTORIES:
        known = ", ".join(sorted({*_FACTORIES, *_LAZY}))
        raise UnknownStrategyError(f"unknown strategy {name!r}: use one of {known}")
    return _FACTORIES[name](options)


def strategy_names() -> list[str]:
    return sorted({*_FACTORIES, *_LAZY})


def _with(cls: Any, options_cls: type[Options], name: str) -> Factory:
    return lambda options: cls(options_cls.parse(options, name))


register_strategy("direct", _with(Direct, DirectOptions, "direct"))
register_strategy("cot", _with(ChainOfThought, DirectOptions, "cot"))
register_strategy("sc", _with(SelfConsistency, SCOptions, "sc"))
register_strategy("bon", bon_factory)

__all__ = [
    "BestOfN",
    "BoNOptions",
    "ChainOfThought",
    "Direct",
    "DirectOptions",
    "SCOptions",
    "SelfConsistency",
    "Strategy",
    "make_strategy",
    "parse_strategy_spec",
    "register_strategy",
    "strategy_names",
]
