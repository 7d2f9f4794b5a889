"""Backends, chosen by a URL-like spec through one registry.

    embedded:smollm2-135m            the embedded default (also just ``smollm2-135m``)
    embedded:/path/model.gguf?threads=2&slots=8&ctx=2048&jinja=1&poll=0
    openai:http://127.0.0.1:8000/v1#model-name?concurrency=8&timeout=60
    scripted:answers.json            a deterministic fake from a JSON script

Built-ins register through ``register_backend`` like any plugin would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from ponder.backends.base import Backend, BaseBackend
from ponder.errors import ConfigError

Factory = Callable[[str, dict[str, str]], Backend]
_FACTORIES: dict[str, Factory] = {}
_CACHE: dict[str, Backend] = {}


def register_backend(scheme: str, factory: Factory) -> None:
    """Make ``scheme:target?k=v`` specs build backends with ``factory(target, options)``."""
    _FACTORIES[scheme] = factory


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """``scheme:target?k=v`` -> (scheme, target, options). A bare name means embedded."""
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("empty model spec: use e.g. embedded:smollm2-135m")
    spec = spec.strip()
    scheme, sep, rest = spec.partition(":")
    if not sep or scheme not in _FACTORIES:
        if spec.startswith(("http://", "https://")):
            scheme, rest = "openai", spec
        elif sep and len(scheme) > 1 and scheme.isalpha() and "/" not in scheme:
            known = ", ".join(sorted(_FACTORIES))
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


def load_backend(spec: str, cache: bool = True) -> Backend:
    """Build (or reuse, for the same spec) a backend from its spec."""
    if cache and spec in _CACHE:
        return _CACHE[spec]
    scheme, target, options = parse_spec(spec)
    backend = _FACTORIES[scheme](target, options)
    if cache:
        _CACHE[spec] = backend
    return backend


def _int_option(options: dict[str, str], key: str, default: int) -> int:
    value = options.pop(key, None)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"option {key} must be an integer, got {value!r}") from None


def _reject_unknown(options: dict[str, Any], scheme: str) -> None:
    if options:
        raise ConfigError(f"unknown {scheme} option(s): {', '.join(sorted(options))}")


def _embedded(target: str, options: dict[str, str]) -> Backend:
    from ponder import models
    from ponder.backends.embedded import EmbeddedBackend, EmbeddedOptions

    opts = EmbeddedOptions(
        threads=_int_option(options, "threads", 0),
        ctx=_int_option(options, "ctx", 2048),
        slots=_int_option(options, "slots", 8),
        jinja=options.pop("jinja", "0").lower() in ("1", "true", "yes"),
        poll=_int_option(options, "poll", 0),
    )
    _reject_unknown(options, "embedded")
    return EmbeddedBackend(target or models.DEFAULT_MODEL, opts)


def _openai(target: str, options: dict[str, str]) -> Backend:
    from ponder.backends.openai import OpenAIBackend, OpenAIOptions

    model = options.pop("model", None)
    timeout = options.pop("timeout", None)
    opts = OpenAIOptions(
        api_key_env=options.pop("key_env", "OPENAI_API_KEY"),
        timeout_s=float(timeout) if timeout else 120.0,
        concurrency=_int_option(options, "concurrency", 16),
        retries=_int_option(options, "retries", 3),
    )
    _reject_unknown(options, "openai")
    return OpenAIBackend(target, model, opts)


def _scripted(target: str, options: dict[str, str]) -> Backend:
    from ponder.backends.scripted import ScriptedBackend, load_script

    _reject_unknown(options, "scripted")
    return load_script(target) if target else ScriptedBackend()


register_backend("embedded", _embedded)
register_backend("openai", _openai)
register_backend("scripted", _scripted)

__all__ = [
    "Backend",
    "BaseBackend",
    "identity_spec",
    "load_backend",
    "parse_spec",
    "register_backend",
]
