"""Tiers: the backends a strategy solves on, cheapest first, each loaded on first use.

    Ladder.of(backend)               one backend is a ladder of one (the one place it is wrapped)
    Ladder([small, large])           backends, tiers or specs, cheapest first
    tier_specs("ladder")             the local ladder's specs, smallest first
    Tier.of(backend)                 a backend already resolved (the proxy's ``--tiers``)
    Tier("embedded:qwen2.5-coder-0.5b", load)   a spec, loaded on first use

Every strategy solves a question on a ``Ladder``: most draw on its bottom tier only,
``auto`` climbs it.

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
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar, Union, overload, runtime_checkable

from ponder import models
from ponder.backends import identity_spec, load_backend, loaded_backend, parse_spec
from ponder.backends.base import Backend
from ponder.errors import ConfigError

Loader = Callable[[str], Backend | Awaitable[Backend]]
log = logging.getLogger("ponder")
_T = TypeVar("_T")


class Tier:
    """One tier: a resolved backend, or the spec of one and how to load it."""

    def __init__(self, spec: str, load: Loader = load_backend, name: str | None = None) -> None:
        """``name``: the backend's name when the spec does not say it (a served model id
        loaded from the proxy's table)."""
        self.spec = spec
        self.load = load
        self.known_name = name
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
        if self._backend is not None:
            return self._backend.name
        return self.known_name or spec_name(self.spec)

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
        return self if self.loaded else Tier(self.spec, load, self.known_name)

    def stands_for(self, backend: Backend) -> bool:
        """Whether this tier is ``backend`` (then the solving backend takes its place),
        told without loading it: the same object, the spec it was loaded from, or the
        same name."""
        if self._backend is None and loaded_backend(self.spec) is backend:
            return True
        mine = self._backend
        return mine is backend or self.name == backend.name

    def mapped(self, wrap: Callable[[Backend], Backend]) -> Tier:
        """This tier with its backend passed through ``wrap`` when it is loaded (the
        proxy seeds each answer's backends apart); a tier loaded already is wrapped now."""
        if self._backend is not None:
            return Tier.of(wrap(self._backend))
        load = self.load

        async def wrapped(spec: str) -> Backend:
            made = load(spec)
            if inspect.isawaitable(made):
                made = await made
            return wrap(made)

        return Tier(self.spec, wrapped, self.known_name)


TierLike = Union["Ladder", Tier, Backend, Sequence[Tier | Backend | str]]


class Ladder(Sequence[Tier]):
    """The tiers a strategy solves on, cheapest first; at least one. Most strategies
    draw on the bottom tier; ``auto`` climbs. Fixed once made."""

    def __init__(self, tiers: Iterable[Tier | Backend | str]) -> None:
        self._tiers = tuple(_as_tier(t) for t in tiers)
        if not self._tiers:
            raise ConfigError("a ladder needs at least one tier: give a backend")

    @classmethod
    def of(cls, tiers: TierLike) -> Ladder:
        """A ladder from a ladder (itself), one backend or tier (a ladder of one), or a
        sequence of them: the one place a plain backend becomes a ladder."""
        if isinstance(tiers, Ladder):
            return tiers
        if isinstance(tiers, (Tier, Backend)):
            return cls([tiers])
        return cls(tiers)

    @overload
    def __getitem__(self, index: int) -> Tier: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Tier]: ...

    def __getitem__(self, index: int | slice) -> Tier | Sequence[Tier]:
        return self._tiers[index]

    def __len__(self) -> int:
        return len(self._tiers)

    def __iter__(self) -> Iterator[Tier]:
        return iter(self._tiers)

    def __repr__(self) -> str:
        return f"Ladder({[t.name for t in self._tiers]!r})"

    async def bottom(self) -> Backend:
        """The cheapest tier's backend, loaded now if need be."""
        return await self._tiers[0].backend()

    def above(self, more: Sequence[Tier]) -> Ladder:
        """This ladder, then ``more``; a first of ``more`` standing for this ladder's top
        tier is left out (its place is taken)."""
        top = self._tiers[-1].current
        if more and top is not None and more[0].stands_for(top):
            more = more[1:]
        return Ladder([*self._tiers, *more])

    def mapped(self, wrap: Callable[[Backend], Backend]) -> Ladder:
        """Every tier's backend passed through ``wrap`` (see ``Tier.mapped``)."""
        return Ladder([t.mapped(wrap) for t in self._tiers])

    def with_loader(self, load: Loader) -> Ladder:
        """Every tier not loaded yet loading with ``load``."""
        return Ladder([t.with_loader(load) for t in self._tiers])


def _as_tier(tier: Tier | Backend | str) -> Tier:
    if isinstance(tier, Tier):
        return tier
    if isinstance(tier, str):
        return Tier(tier)
    if isinstance(tier, Backend):
        return Tier.of(tier)
    raise ConfigError(f"a tier is a backend, a Tier or a backend spec, not {tier!r:.60}")


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
