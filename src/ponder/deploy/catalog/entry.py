"""One catalog model: the Hugging Face config it copies and its published sizes."""

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
