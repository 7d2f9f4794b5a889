"""Inference-time compute strategies, chosen by a spec such as ``sc:n=16,stop=esc``.

    direct                     one greedy sample (the 1x baseline)
    cot                        one sample asked to reason step by step
    pot                        one sample asked for an arithmetic program, evaluated safely
    sc:n=8,program=true        self-consistency over programs' results (also bon)
    sc:n=8,stop=esc            self-consistency with early stopping (esc, beta, margin, fixed)
    bon:n=8,scorer=logprob     best-of-N with a scorer (logprob, judge, calc, reward, a callable)
    bon:scorer=judge,judge=embedded:qwen2.5-coder-1.5b   a larger tier judges (operator only)
    bon:n=8,scorer=crosscheck  a path that the model's own program agrees with wins
    tot:k=3,b=2,evaluate=value tree of thoughts, breadth-first over reasoning steps
    beam:n=4,width=2           step-level beam search guided by a process scorer (calc, ...)
    auto                       the adaptive router (ponder.routing), over model tiers
    sample:n=16                one greedy sample and 16 more: the pool replay reads

Built-ins register through the ``ponder.strategies`` entry points (see
``ponder.strategies.builtin``), the same door an installed package uses; code can also
call ``register_strategy``. A strategy subclasses ``BaseStrategy``: a ``name`` and
``async answer(question: Question, ladder: Ladder) -> Result``, where the ladder is the
tiers to solve on, cheapest first (one backend is a ladder of one: ``solve`` takes
either); a ``work()`` bound lets the proxy serve it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ponder.errors import ConfigError, UnknownStrategyError
from ponder.plugins import Registry
from ponder.strategies.auto import AutoOptions, AutoStrategy
from ponder.strategies.base import BaseStrategy, Options, Strategy, StrategyEntry, solve_on
from ponder.strategies.best_of_n import BestOfN, BoNOptions
from ponder.strategies.direct import ChainOfThought, Direct, DirectOptions, ProgramOfThought
from ponder.strategies.pool import SampleOptions, SamplePool
from ponder.strategies.self_consistency import SCOptions, SelfConsistency
from ponder.strategies.tiers import Ladder, Tier

Factory = Callable[[dict[str, Any]], Strategy]


def _entry(plugin: object) -> StrategyEntry:
    if isinstance(plugin, StrategyEntry):
        return plugin
    if callable(plugin):
        return StrategyEntry(plugin)
    raise ConfigError(f"a strategy plugin must be a StrategyEntry or a factory, got {plugin!r}")


_REGISTRY: Registry[StrategyEntry] = Registry("ponder.strategies", _entry)


def register_strategy(name: str, factory: Factory, options: type[Options] | None = None) -> None:
    """Make ``name:k=v`` specs build strategies with ``factory(options)``; ``options`` is
    the strategy's typed options class (it tells the proxy which options requests may set).
    Installed packages do the same with a ``ponder.strategies`` entry point."""
    _REGISTRY.register(name, StrategyEntry(factory, options))


def _entry_for(name: str) -> StrategyEntry:
    found = _REGISTRY.get(name)
    if found is None:
        known = ", ".join(_REGISTRY.names()) or "none (is ponder installed? pip install -e .)"
        raise UnknownStrategyError(f"unknown strategy {name!r}: use one of {known}")
    return found


def strategy_options(name: str) -> type[Options] | None:
    """The typed options class of a registered strategy (None when it declared none)."""
    return _entry_for(name).options


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
    return _entry_for(name).factory(options)


def strategy_names() -> list[str]:
    return _REGISTRY.names()


__all__ = [
    "AutoOptions",
    "AutoStrategy",
    "BaseStrategy",
    "BestOfN",
    "BoNOptions",
    "ChainOfThought",
    "Direct",
    "DirectOptions",
    "Ladder",
    "ProgramOfThought",
    "SCOptions",
    "SampleOptions",
    "SamplePool",
    "SelfConsistency",
    "Strategy",
    "StrategyEntry",
    "Tier",
    "make_strategy",
    "parse_strategy_spec",
    "register_strategy",
    "solve_on",
    "strategy_names",
    "strategy_options",
]
