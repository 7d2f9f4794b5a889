"""MoE tests need the ``moe`` extra (torch); each module skips with the reason when it is absent."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

try:
    import torch
except ImportError:  # pragma: no cover - CI installs the extra
    torch = None  # type: ignore[assignment]

if torch is not None:
    torch.set_num_threads(1)
