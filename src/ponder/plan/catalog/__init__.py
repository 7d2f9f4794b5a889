"""Built-in model catalog: real Hugging Face ``config.json`` fields plus published sizes.

Each entry names the config it copies and the source of its published parameter figures,
so tests can check the planner's counts against the publishers' own numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Published:
    """A parameter count as its publisher states it.

    ``precision`` is the last digit the source writes (0.1e9 for "3.3B"); ``matmul_only`` is
    True when the source leaves the input-embedding lookup out of the active count.
    """

    value: float
    precision: float
    source: str
    matmul_only: bool = False


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    hf_id: str
    config: dict[str, Any]
    config_source: str
    total: Published
    active: Published | None = None
    aliases: tuple[str, ...] = field(default=())
    notes: str = ""


def _all() -> tuple[CatalogEntry, ...]:
    from ponder.plan.catalog.dense import DENSE
    from ponder.plan.catalog.moe import MOE
    from ponder.plan.catalog.slm import SLM

    return MOE + DENSE + SLM


def catalog() -> tuple[CatalogEntry, ...]:
    """Every built-in model."""
    return _all()


def model_names() -> list[str]:
    """Catalog names, in catalog order."""
    return [e.name for e in _all()]


def find_model(name: str) -> CatalogEntry | None:
    """The entry whose name, alias or Hugging Face id matches ``name`` (case-insensitive)."""
    key = name.strip().lower()
    for entry in _all():
        if key in (entry.name, entry.hf_id.lower(), *entry.aliases):
            return entry
    return None


__all__ = ["CatalogEntry", "Published", "catalog", "find_model", "model_names"]
