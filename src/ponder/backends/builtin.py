"""The built-in backends' factories, registered through the ``ponder.backends`` entry
points in ``pyproject.toml`` like any plugin's: ``factory(target, options) -> Backend``."""

from __future__ import annotations

from typing import Any

from ponder.backends.base import Backend
from ponder.errors import ConfigError


def _int_option(options: dict[str, str], key: str, default: int) -> int:
    value = options.pop(key, None)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"option {key} must be an integer, got {value!r}") from None


def _float_option(key: str, value: str | None, default: float) -> float:
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"option {key} must be a number, got {value!r}") from None


def _reject_unknown(options: dict[str, Any], scheme: str) -> None:
    if options:
        raise ConfigError(f"unknown {scheme} option(s): {', '.join(sorted(options))}")


def embedded(target: str, options: dict[str, str]) -> Backend:
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


def openai(target: str, options: dict[str, str]) -> Backend:
    from ponder.backends.http import OpenAIOptions
    from ponder.backends.openai import OpenAIBackend

    model = options.pop("model", None)
    timeout = options.pop("timeout", None)
    backoff = options.pop("backoff", None)
    opts = OpenAIOptions(
        api_key_env=options.pop("key_env", "OPENAI_API_KEY"),
        timeout_s=float(timeout) if timeout else 120.0,
        concurrency=_int_option(options, "concurrency", 16),
        retries=_int_option(options, "retries", 3),
        backoff_s=_float_option("backoff", backoff, 0.5),
        retry=options.pop("retry", "safe"),
        max_n=_int_option(options, "max_n", 0),
    )
    _reject_unknown(options, "openai")
    return OpenAIBackend(target, model, opts)


def scripted(target: str, options: dict[str, str]) -> Backend:
    from ponder.backends.scripted import ScriptedBackend, load_script

    _reject_unknown(options, "scripted")
    return load_script(target) if target else ScriptedBackend()
