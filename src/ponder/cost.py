"""Usage -> cost: dollars from a price table, FLOPs from active parameters.

Prices are dollars per million input and output tokens. The built-in table holds a
few hosted models (published list prices, see ``PRICE_SOURCES``) and zero for local
models; a JSON file named by ``$PONDER_PRICES`` or passed to ``load_prices`` adds or
overrides entries: ``{"model-name": {"input": 0.15, "output": 0.6}}``.

FLOPs follow the usual estimate of 2 x active parameters per processed token. A
prompt shared by n samples is processed once, which ``Usage`` already reflects.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ponder.errors import ConfigError
from ponder.types import Cost, Usage


@dataclass(frozen=True)
class Price:
    input: float  # $ per 1M prompt tokens
    output: float  # $ per 1M completion tokens


PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
}
PRICE_SOURCES = "OpenAI API pricing page, list prices per 1M tokens (standard tier)"


def load_prices(path: str | os.PathLike[str]) -> dict[str, Price]:
    """Read a price file; raise ConfigError naming the bad entry."""
    file = Path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read price file {file}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"price file {file} must map model names to {{input, output}}")
    table = {}
    for model, entry in raw.items():
        try:
            table[model] = Price(float(entry["input"]), float(entry["output"]))
        except (TypeError, KeyError, ValueError):
            raise ConfigError(
                f"price file {file}: entry {model!r} needs numeric 'input' and 'output' "
                "($ per million tokens)"
            ) from None
    return table


def _env_prices(path: str) -> dict[str, Price]:
    """$PONDER_PRICES, read once per change of the file rather than on every estimate."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        stamp = -1
    return _cached_prices(path, stamp)


@functools.lru_cache(maxsize=8)
def _cached_prices(path: str, stamp: int) -> dict[str, Price]:
    return load_prices(path)


NOTIONAL_PER_BILLION = 0.10
"""Notional $ per million tokens per billion active parameters, for unpriced local models:
it makes a bigger tier's tokens cost more, so a budget can trade tiers against samples."""


def price_for(
    model: str, extra: dict[str, Price] | None = None, active_params: float | None = None
) -> Price:
    """The price of a model: explicit table, then $PONDER_PRICES, then built-ins; else a
    notional price from its active parameters when known (local models), else 0."""
    tables = [extra or {}]
    if env := os.environ.get("PONDER_PRICES"):
        tables.append(_env_prices(env))
    tables.append(PRICES)
    for table in tables:
        if model in table:
            return table[model]
    if active_params:
        notional = NOTIONAL_PER_BILLION * active_params / 1e9
        return Price(notional, notional)
    return Price(0.0, 0.0)


@functools.lru_cache(maxsize=256)
def active_params_for(model: str) -> float | None:
    """Active parameters that do matrix multiplies, if known: read from the file when
    ``model`` is a GGUF path (alone or as ``embedded:/path/model.gguf``), else from the
    planner's catalog by name (a served model's id, or an ``openai:`` spec's model after
    ``#``; ``Qwen/Qwen2.5-3B-Instruct``, ``qwen2.5:3b`` and ``qwen2.5-3b`` are one model)."""
    # the planner loads on first use only: ``import ponder`` does not need it
    from ponder.deploy.catalog import catalog
    from ponder.deploy.config import load_architecture
    from ponder.deploy.gguf import gguf_params

    name = model.strip().removeprefix("embedded:").split("?", 1)[0]
    if name.lower().endswith(".gguf"):
        path = Path(name).expanduser()
        return float(gguf_params(path).active) if path.is_file() else None
    tail = name.rsplit("#", 1)[-1].lower().rsplit("/", 1)[-1].replace(":", "-")
    keys = {tail, re.sub(r"-(instruct|chat|it)(?=-|$)", "", tail)}
    for entry in catalog():
        names = {entry.name, entry.hf_id.lower().rsplit("/", 1)[-1], *entry.aliases}
        if keys & names:
            return float(load_architecture(entry.name).params.active_matmul)
    return None


def estimate(
    usage: Usage,
    model: str,
    active_params: float | None = None,
    prices: dict[str, Price] | None = None,
) -> Cost:
    """Dollars and FLOPs of ``usage``; active parameters default to the catalog's figure,
    and a model without a price gets the notional one (the units replay and routing use)."""
    if active_params is None:
        active_params = active_params_for(model)
    price = price_for(model, prices, active_params)
    dollars = (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6
    flops = 2.0 * active_params * usage.total_tokens if active_params else 0.0
    return Cost(dollars=dollars, flops=flops)
