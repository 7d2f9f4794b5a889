"""Built-in model catalog: real Hugging Face ``config.json`` fields plus published sizes.

Each entry names the config it copies and the source of its published parameter figures,
so tests can check the planner's counts against the publishers' own numbers.
"""

from __future__ import annotations

from ponder.deploy.catalog.dense import DENSE
from ponder.deploy.catalog.entry import CatalogEntry, Published
from ponder.deploy.catalog.moe import MOE
from ponder.deploy.catalog.slm import SLM


def _all() -> tuple[CatalogEntry, ...]:
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
