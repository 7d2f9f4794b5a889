"""What a request may ask for: the trust boundary between operator and client.

Only the operator's configuration (``--model``, ``--tiers``, ``--router``) names a
backend, a file, a URL or an environment variable. A request picks a served model and
a strategy, and sets only the strategy options that cannot name anything: numbers,
booleans and fixed choices (``Options.request_fields``). Every request's total work,
answers x samples per answer x completion tokens, is checked against the operator's
caps before the first model call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ponder.errors import ConfigError
from ponder.server.errors import ApiError
from ponder.server.protocol import PonderOptions, SamplingFields
from ponder.strategies import parse_strategy_spec, strategy_options
from ponder.strategies.base import Bounded, Strategy, Work

MiB = 1024 * 1024
log = logging.getLogger("ponder.server")


@dataclass(frozen=True)
class Caps:
    """The operator's limits on one request.

    ``upstream_tokens``: the completion length the upstreams use when a request sets
    none, where the operator declared it; a pass-through answer without ``max_tokens``
    otherwise counts as the whole ``max_tokens`` cap.
    """

    max_body_bytes: int = 4 * MiB
    max_samples: int = 512
    max_tokens: int = 1_048_576
    upstream_tokens: int | None = None


def request_options(
    spec: str, ponder: PonderOptions | None, request: SamplingFields
) -> dict[str, Any]:
    """The options a request sets on strategy ``spec``, each checked against the boundary.

    Raises a 400 naming the first option a request may not set.
    """
    name, from_spec = _parse(spec)
    options_cls = strategy_options(name)
    allowed = options_cls.request_fields() if options_cls is not None else frozenset()
    known = frozenset(options_cls.model_fields) if options_cls is not None else frozenset()
    renamed = options_cls.renamed if options_cls is not None else {}
    _check(name, _new_names(from_spec, renamed), allowed, known, "ponder.strategy")
    # A client's temperature and seed are not the strategy's: it samples at its own
    # temperature, and the proxy seeds each draw (ponder.server.chat.sampling).
    budget = request.completion_budget
    wanted: dict[str, Any] = {"max_tokens": budget}
    overrides = {k: v for k, v in wanted.items() if v is not None and k in allowed}
    if ponder is not None:
        shorthand: dict[str, Any] = {}  # ponder.n and ponder.early_stop: options like any
        if ponder.n is not None:
            shorthand["n"] = ponder.n
        if ponder.early_stop is not None:
            stop = ponder.early_stop
            shorthand["stop"] = ("esc" if stop else "fixed") if isinstance(stop, bool) else stop
        _check(name, shorthand, allowed, known, "ponder")
        overrides.update(shorthand)
        options = _new_names(ponder.options, renamed)
        _check(name, options, allowed, known, "ponder.options")
        overrides.update(options)
    return overrides


def _new_names(options: dict[str, Any], renamed: dict[str, str]) -> dict[str, Any]:
    """``options`` with old names given under their new ones, noted in the server log."""
    old = [key for key in options if key in renamed]
    if old:
        log.warning(
            "deprecated strategy options in a request",
            extra={"options": {key: renamed[key] for key in old}},
        )
    return {renamed.get(key, key): value for key, value in options.items()}


def _parse(spec: str) -> tuple[str, dict[str, Any]]:
    try:
        return parse_strategy_spec(spec)
    except ConfigError as exc:
        raise ApiError(400, str(exc), param="ponder.strategy") from None


def _check(
    strategy: str,
    options: dict[str, Any],
    allowed: frozenset[str],
    known: frozenset[str],
    where: str,
) -> None:
    for key in options:
        if key in allowed:
            continue
        if key in known:
            raise ApiError(
                400,
                f"option {key!r} of strategy {strategy!r} can only be set by the server's "
                "operator (it names a model, a file or a plan): drop it from the request",
                param=f"{where}.{key}"[:200],
                code="option_not_allowed",
            )
        hint = f"use one of {', '.join(sorted(allowed))}" if allowed else "it takes none"
        raise ApiError(
            400,
            f"unknown option {key[:60]!r} for strategy {strategy!r}: {hint}",
            param=where,
        )


def check_work(strategy: Strategy | None, answers: int, max_tokens: int | None, caps: Caps) -> Work:
    """The request's total work, or a 400 when it is over the operator's caps.

    ``answers`` is prompts x ``n``. A pass-through request (no strategy) draws one sample
    per answer, of ``max_tokens`` when the client set it, else of the upstream's declared
    default, else of the whole token cap.
    """
    hint = ""
    if strategy is None:
        default = caps.upstream_tokens or caps.max_tokens
        per = Work(1, default if max_tokens is None else max_tokens)
        if max_tokens is None:
            hint = f" (without max_tokens an answer counts as {per.tokens} tokens: set max_tokens)"
    elif isinstance(strategy, Bounded):
        per = strategy.work()
    else:
        raise ApiError(
            400,
            f"strategy {strategy.name!r} does not declare a bound on its work, so this server "
            "does not run it",
            param="ponder.strategy",
        )
    total = per * answers
    if total.samples > caps.max_samples or total.tokens > caps.max_tokens:
        raise ApiError(
            400,
            f"this request's work is over the server's cap: {answers} answer(s) x "
            f"{per.samples} sample(s) = {total.samples} samples (cap {caps.max_samples}), "
            f"up to {total.tokens} completion tokens (cap {caps.max_tokens}){hint}; lower n, "
            "ponder.n, max_tokens or the number of prompts",
            code="work_over_cap",
        )
    return total


def check_answers(answers: int, caps: Caps) -> None:
    """A 400 for a request whose answers alone (prompts x ``n``, each one sample at least)
    are over the sample cap: checked before anything is built per answer."""
    if answers > caps.max_samples:
        raise ApiError(
            400,
            f"this request's work is over the server's cap: {answers} answer(s), one "
            f"sample each at least (cap {caps.max_samples} samples); lower n, ponder.n or "
            "the number of prompts",
            code="work_over_cap",
        )
