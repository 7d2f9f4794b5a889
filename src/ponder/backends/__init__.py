"""Backends, chosen by a URL-like spec through one registry.

    embedded:smollm2-135m            the embedded default (also just ``smollm2-135m``)
    embedded:/path/model.gguf?threads=2&slots=8&ctx=2048&jinja=1&poll=0
    openai:http://127.0.0.1:8000/v1#model-name?concurrency=8&timeout=60&retry=safe
    scripted:answers.json            a deterministic fake from a JSON script

Built-ins register through the ``ponder.backends`` entry points (see
``ponder.backends.builtin``), the same door an installed package uses; code can also
call ``register_backend``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import parse_qsl

from ponder.backends.base import Backend, BaseBackend
from ponder.errors import ConfigError
from ponder.plugins import Registry

Factory = Callable[[str, dict[str, str]], Backend]


def _factory(plugin: object) -> Factory:
    if not callable(plugin):
        raise ConfigError(f"a backend plugin must be a factory(target, options), got {plugin!r}")
    return plugin


_REGISTRY: Registry[Factory] = Registry("ponder.backends", _factory)
_CACHE: OrderedDict[str, Backend] = OrderedDict()
CACHE_SIZE = 16


class CacheInfo(NamedTuple):
    size: int
    max_size: int


def cache_info() -> CacheInfo:
    """How many backends ``load_backend`` keeps for reuse, and its bound."""
    return CacheInfo(len(_CACHE), CACHE_SIZE)


def register_backend(scheme: str, factory: Factory) -> None:
    """Make ``scheme:target?k=v`` specs build backends with ``factory(target, options)``.
    Installed packages do the same with a ``ponder.backends`` entry point."""
    _REGISTRY.register(scheme, factory)


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``scheme:target?k=v`` -> (scheme, target, options). A bare name means embedded."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("empty model spec: use e.g. embedded:smollm2-135m")
    spec = spec.strip()
    scheme, sep, rest = spec.partition(":")
    if not sep or _REGISTRY.get(scheme) is None:
        if spec.startswith(("http://", "https://")):
            scheme, rest = "openai", spec
        elif sep and len(scheme) > 1 and scheme.isalpha() and "/" not in scheme:
            known = ", ".join(_REGISTRY.names())
            raise ConfigError(f"unknown backend {scheme!r} in {spec!r}: use one of {known}")
        else:
            scheme, rest = "embedded", spec
    fragment = ""
    if "#" in rest:
        rest, fragment = rest.split("#", 1)
    target, _, query = rest.partition("?")
    if "?" in fragment:
        fragment, query = fragment.split("?", 1)
    options = dict(parse_qsl(query, keep_blank_values=True))
    if fragment:
        options["model"] = fragment
    return scheme, target, options


RUNTIME_OPTIONS = frozenset(
    {"threads", "slots", "poll", "timeout", "concurrency", "retries", "key_env"}
)
"""Spec options that change how a model runs, not what it answers."""


def identity_spec(spec: str) -> str:
    """The spec without its runtime options: the same model with ``?threads=2`` or a
    longer timeout is the same model (``embedded:m?threads=1`` -> ``embedded:m``)."""
    if "?" not in spec:
        return spec  # nothing to strip: leave the name as the user wrote it
    try:
        scheme, target, options = parse_spec(spec)
    except ConfigError:
        return spec
    model = options.pop("model", None)
    kept = sorted((k, v) for k, v in options.items() if k not in RUNTIME_OPTIONS)
    query = "&".join(f"{k}={v}" for k, v in kept)
    return f"{scheme}:{target}" + (f"#{model}" if model else "") + (f"?{query}" if query else "")


def loaded_backend(spec: str) -> Backend | None:
    """The backend ``load_backend(spec)`` built already and still keeps, if any (this
    loads nothing)."""
    return _CACHE.get(spec)


def load_backend(spec: str, cache: bool = True) -> Backend:
    """Build (or reuse, for the same spec) a backend from its spec.

    The cache keeps the ``CACHE_SIZE`` most recently used backends; an evicted one is
    no longer reused (its holders keep it; it is freed when they let it go).
    """
    if cache and spec in _CACHE:
        _CACHE.move_to_end(spec)
        return _CACHE[spec]
    scheme, target, options = parse_spec(spec)
    factory = _REGISTRY.get(scheme)
    if factory is None:
        raise ConfigError(f"no backend is registered for {scheme!r}: is ponder installed?")
    backend = factory(target, options)
    if cache:
        _CACHE[spec] = backend
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return backend


__all__ = [
    "Backend",
    "BaseBackend",
    "CacheInfo",
    "cache_info",
    "identity_spec",
    "load_backend",
    "loaded_backend",
    "parse_spec",
    "register_backend",
]
