"""Errors of the serving planner.

PonderError (ponder.errors)
└── ConfigError
    └── PlanError                 anything the planner rejects; the message says what to change
        ├── ArchitectureError     a config.json the planner cannot read (missing or bad fields)
        ├── UnknownPlanModelError a model name that is neither in the catalog nor a file
        ├── UnknownGPUError       a GPU name not in the GPU catalog
        ├── UnknownDtypeError     a weight or KV-cache dtype the planner does not know
        ├── LayoutError           an impossible parallel layout (e.g. TP not dividing the heads)
        └── DoesNotFitError       the model, or its KV cache at the context, does not fit
"""

from __future__ import annotations

from ponder.errors import ConfigError


class PlanError(ConfigError):
    """Base of the planner's errors; the message says what to change."""


class ArchitectureError(PlanError):
    """A model configuration that cannot be turned into an architecture."""


class UnknownPlanModelError(PlanError):
    """A model that is neither a catalog name, a config file, nor a directory holding one."""


class UnknownGPUError(PlanError):
    """A GPU name that the GPU catalog does not know."""


class UnknownDtypeError(PlanError):
    """A weight format or KV-cache dtype the planner does not know."""


class LayoutError(PlanError):
    """A parallel layout that vLLM would refuse for this model."""


class DoesNotFitError(PlanError):
    """The weights, or the KV cache for one request at the context, exceed GPU memory."""
