"""Server settings and the table of model ids the proxy serves.

Each ``--model SPEC`` is exposed under a short id: ``NAME=SPEC`` names it
explicitly; otherwise an OpenAI spec's ``#model`` fragment, an embedded spec's
registry name (or GGUF file stem), or a scripted file's stem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.backends import load_backend, parse_spec
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL, check_source
from ponder.server.policy import Caps

DEFAULT_SPEC = f"embedded:{DEFAULT_MODEL}"
OPENABLE = ("/metrics", "/docs", "/redoc", "/openapi.json")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")


@dataclass
class ServerConfig:
    """Everything ``create_app`` needs. ``models`` maps an id to a spec or a backend object."""

    models: dict[str, Any] = field(default_factory=dict)
    api_keys: tuple[str, ...] = ()
    max_concurrency: int = 64
    max_queue: int = 256
    timeout_s: float = 600.0
    router: str | None = None
    ready_timeout_s: float = 5.0
    ready_ttl_s: float = 5.0
    heartbeat_s: float = 5.0
    tiers: tuple[str, ...] = ()
    open_paths: tuple[str, ...] = ()
    max_body_bytes: int = Caps.max_body_bytes
    max_request_samples: int = Caps.max_samples
    max_request_tokens: int = Caps.max_tokens
    upstream_max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not self.models:
            self.models = {DEFAULT_MODEL: DEFAULT_SPEC}
        for tier in self.tiers:
            if tier not in self.models:
                raise ConfigError(
                    f"tier {tier!r} is not a served model: use ids from --model "
                    f"({', '.join(self.models)})"
                )
        for name in (
            "max_body_bytes",
            "max_request_samples",
            "max_request_tokens",
            "upstream_max_tokens",
        ):
            if (getattr(self, name) or 1) < 1:
                raise ConfigError(f"{name.replace('_', ' ')} must be at least 1")
        if unknown := set(self.open_paths) - set(OPENABLE):
            raise ConfigError(
                f"cannot open {', '.join(sorted(unknown))}: choose among {', '.join(OPENABLE)}"
            )
        if self.max_concurrency < 1:
            raise ConfigError("max concurrency must be at least 1")
        if self.max_queue < 0:
            raise ConfigError("max queue must be zero or more")
        if self.timeout_s <= 0:
            raise ConfigError("the request timeout must be positive (seconds)")
        if any(not key for key in self.api_keys):
            raise ConfigError("an API key cannot be empty")

    @property
    def caps(self) -> Caps:
        return Caps(
            self.max_body_bytes,
            self.max_request_samples,
            self.max_request_tokens,
            self.upstream_max_tokens,
        )

    def tiers_after(self, model: str) -> list[str]:
        """The operator's stronger tiers for ``auto`` on ``model`` (none if not a tier)."""
        if model not in self.tiers:
            return []
        return list(self.tiers[self.tiers.index(model) + 1 :])

    @classmethod
    def from_specs(cls, specs: list[str] | tuple[str, ...], **options: Any) -> ServerConfig:
        """A config whose models come from ``--model`` specs (the default model when empty)."""
        return cls(models=model_table(specs or [DEFAULT_SPEC]), **options)


def preflight(models: dict[str, Any]) -> None:
    """Cheap checks of the operator's specs before serving, so that a model that cannot
    load stops ``ponder serve`` at once; loading weights stays in the background."""
    for entry in models.values():
        if not isinstance(entry, str):
            continue
        scheme, target, _ = parse_spec(entry)
        if scheme == "embedded":
            check_source(target or DEFAULT_MODEL)
        else:  # scripted files are read, openai options checked; nothing is contacted
            load_backend(entry, cache=False)


def model_table(specs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Map each spec to its served id; reject two specs that claim the same id."""
    table: dict[str, str] = {}
    for spec in specs:
        name, real = split_named(spec)
        name = name or model_id(real)
        if name in table:
            raise ConfigError(f"two --model specs are served as {name!r}: name one with NAME=SPEC")
        table[name] = real
    return table


def split_named(spec: str) -> tuple[str | None, str]:
    """``NAME=SPEC`` -> (NAME, SPEC); a plain spec -> (None, spec)."""
    head, sep, rest = spec.partition("=")
    if sep and ":" not in head and "?" not in head and _NAME.match(head) and rest:
        return head, rest
    return None, spec


def model_id(spec: str) -> str:
    """The short id a spec is served under."""
    scheme, target, options = parse_spec(spec)
    if options.get("model"):
        return options["model"]
    if scheme == "embedded":
        if not target:
            return DEFAULT_MODEL
        return Path(target).stem if target.endswith(".gguf") else target
    if scheme == "scripted":
        return Path(target).stem if target else "scripted"
    raise ConfigError(f"cannot name the model of {spec!r}: add '#model-id' or use NAME=SPEC")
