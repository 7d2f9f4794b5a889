"""Errors of the MoE layer.

PonderError (ponder.errors)
└── ConfigError
    └── MoEError                  anything the MoE layer rejects; the message says what to change
        ├── MoEConfigError        sizes or router options that do not make a valid layer
        └── ExpertParallelError   an expert-parallel setup that cannot work (world size, ranks)
"""

from __future__ import annotations

from ponder.errors import ConfigError


class MoEError(ConfigError):
    """Base of the MoE layer's errors."""


class MoEConfigError(MoEError):
    """A configuration that does not describe a valid MoE layer."""


class ExpertParallelError(MoEError):
    """An expert-parallel setup that cannot work."""
