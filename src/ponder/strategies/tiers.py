"""``auto``'s tiers: the operator's backends, each loaded when a plan first draws on it.

    tier_specs("ladder")             the local ladder's specs, smallest first
    Tier.of(backend)                 a backend already resolved (the proxy's ``--tiers``)
    Tier("embedded:qwen2.5-coder-0.5b", load)   a spec, loaded on first use

A question settled on tier 0 loads (and, for a registry model not downloaded yet,
fetches) nothing more: a spec tier calls ``load`` (``load_backend`` unless the caller
passes one, e.g. the CLI's, which fetches with a progress bar; an async one, such as a
server's model table, is awaited) the first time a plan draws on it, and keeps what it
built, as ``load_backend`` keeps it for the same spec. What a tier may be is fixed when
the strategy is built, from the operator's settings (``tiers=``, ``--tiers``): request
data never names a backend.

A judge (``judge=`` of ``bon``, ``tot`` and ``beam``: a larger tier checking a smaller
one) is a ``Tier`` too, loaded the same way on its first use; ``LoadsTiers`` is what a
strategy or scorer holding such tiers offers (``with_loader``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar, runtime_checkable

from ponder import models
from ponder.backends import identity_spec, load_backend, loaded_backend, parse_spec
from ponder.backends.base import Backend

Loader = Callable[[str], Backend | Awaitable[Backend]]
log = logging.getLogger("ponder")
_T = TypeVar("_T")


class Tier:
    """One tier: a resolved backend, or the spec of one and how to load it."""

    def __init__(self, spec: str, load: Loader = load_backend) -> None:
        self.spec = spec
        self.load = load
        self._backend: Backend | None = None

    @classmethod
    def of(cls, backend: Backend) -> Tier:
        tier = cls(backend.name)
        tier._backend = backend
        return tier

    @property
    def loaded(self) -> bool:
        return self._backend is not None

    @property
    def current(self) -> Backend | None:
        """The backend if it is loaded (this loads nothing)."""
        return self._backend

    @property
    def name(self) -> str:
        """The backend's name; before it is loaded, the name its spec gives it."""
        return self._backend.name if self._backend is not None else spec_name(self.spec)

    @property
    def label(self) -> str:
        """The model, for people (``qwen2.5-coder-0.5b``), loaded or not."""
        if self._backend is not None:
            return self._backend.model
        _, target, options = parse_spec(self.spec)
        return options.get("model") or target or self.name

    async def backend(self) -> Backend:
        """The backend, loaded now if this is its first use (a second question that
        loads it meanwhile keeps the first one's)."""
        if self._backend is None:
            made = self.load(self.spec)
            if inspect.isawaitable(made):
                made = await made
            if self._backend is None:
                self._backend = made
        return self._backend

    def with_loader(self, load: Loader) -> Tier:
        """This tier loading with ``load`` (itself, when it is loaded already)."""
        return self if self.loaded else Tier(self.spec, load)

    def stands_for(self, backend: Backend) -> bool:
        """Whether this tier is ``backend`` (then the solving backend takes its place),
        told without loading it: the same object, the spec it was loaded from, or the
        same name."""
        if self._backend is None and loaded_backend(self.spec) is backend:
            return True
        mine = self._backend
        return mine is backend or self.name == backend.name


def as_tier(tier: Tier | Backend | str | None) -> Tier | None:
    """A tier from a spec (loaded on first use), a backend, or a tier; None stays None."""
    if tier is None or isinstance(tier, Tier):
        return tier
    return Tier(tier) if isinstance(tier, str) else Tier.of(tier)


@runtime_checkable
class LoadsTiers(Protocol):
    """A strategy or scorer holding tiers it loads on first use (``auto``'s tiers, a
    judge): ``with_loader`` gives the same one loading them with ``load`` (the CLI's
    fetches a registry model with a progress bar first)."""

    def with_loader(self: _T, load: Loader) -> _T: ...


def spec_name(spec: str) -> str:
    """The name a backend built from ``spec`` goes by, without runtime options
    (``embedded:m?threads=2`` and ``m`` -> ``embedded:m``)."""
    scheme, target, _ = parse_spec(spec)
    if scheme == "embedded":
        return f"embedded:{target or models.DEFAULT_MODEL}"
    return identity_spec(spec)


def tier_specs(tiers: str | None, uncached: str = "fetch") -> list[str]:
    """Tier specs separated by ``|`` or by ``+`` (which a shell leaves alone unquoted);
    ``ladder`` stands for the local ladder's models. With ``uncached="skip"`` a registry
    model that is not downloaded yet is left out, with a one-line notice."""
    text = (tiers or "").replace("|", "+")
    specs: list[str] = []
    for spec in (t.strip() for t in text.split("+")):
        if spec == "ladder":
            specs += [f"embedded:{name}" for name in models.LADDER]
        elif spec:
            specs.append(spec)
    if uncached == "skip":
        kept = [s for s in specs if not uncached_model(s)]
        for spec in specs:
            if spec not in kept:
                log.warning("auto: tier %s is not downloaded; skipped (uncached=skip)", spec)
        return kept
    return specs


def uncached_model(spec: str) -> str | None:
    """The registry model an embedded spec names when it is not downloaded yet."""
    scheme, target, _ = parse_spec(spec)
    name = target or models.DEFAULT_MODEL
    if scheme == "embedded" and name in models.REGISTRY and not models.is_cached(name):
        return name
    return None
