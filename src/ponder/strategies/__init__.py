"""Inference-time compute strategies, chosen by a spec such as ``sc:n=16,stop=esc``.

    direct                     one greedy sample (the 1x baseline)
    cot                        one sample asked to reason step by step
    sc:n=8,stop=esc            self-consistency with early stopping (esc, beta, margin, fixed)
    bon:n=8,scorer=logprob     best-of-N with a scorer (logprob, judge, or a callable)
    auto                       the adaptive router (ponder.routing), over model tiers

Third-party strategies register with ``register_strategy`` like the built-ins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ponder.errors import ConfigError, UnknownStrategyError
from ponder.strategies.auto import AutoOptions, AutoStrategy, make_auto
from ponder.strategies.base import Options, Strategy
from ponder.strategies.best_of_n import BestOfN, BoNOptions
from ponder.strategies.direct import ChainOfThought, Direct, DirectOptions
from ponder.strategies.self_consistency import SCOptions, SelfConsistency

Factory = Callable[[dict[str, Any]], Strategy]
_FACTORIES: dict[str, Factory] = {}
_OPTIONS: dict[str, type[Options]] = {}


def register_strategy(name: str, factory: Factory, options: type[Options] | None = None) -> None:
    """Make ``name:k=v`` specs build strategies with ``factory(options)``; ``options`` is
    the strategy's typed options class (it tells the proxy which options requests may set)."""
    _FACTORIES[name] = factory
    if options is not None:
        _OPTIONS[name] = options
    else:
        _OPTIONS.pop(name, None)


def _known(name: str) -> None:
    if name not in _FACTORIES:
        known = ", ".join(sorted(_FACTORIES))
        raise UnknownStrategyError(f"unknown strategy {name!r}: use one of {known}")


def strategy_options(name: str) -> type[Options] | None:
    """The typed options class of a registered strategy (None when it declared none)."""
    _known(name)
    return _OPTIONS.get(name)


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
    _known(name)
    return _FACTORIES[name](options)


def strategy_names() -> list[str]:
    return sorted(_FACTORIES)


def _with(cls: Any, options_cls: type[Options], name: str) -> Factory:
    return lambda options: cls(options_cls.parse(options, name))


register_strategy("direct", _with(Direct, DirectOptions, "direct"), DirectOptions)
register_strategy("cot", _with(ChainOfThought, DirectOptions, "cot"), DirectOptions)
register_strategy("sc", _with(SelfConsistency, SCOptions, "sc"), SCOptions)
register_strategy("bon", _with(BestOfN, BoNOptions, "bon"), BoNOptions)
register_strategy("auto", make_auto, AutoOptions)

__all__ = [
    "AutoOptions",
    "AutoStrategy",
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
    "strategy_options",
]
