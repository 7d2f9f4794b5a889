"""Long-context sweeps: measure "lost in the middle" on any backend, beside the harness.

niah        needle in a haystack over lengths x depths (single, multi, multikey)
kv          Liu et al.'s UUID key-value retrieval and multi-document QA
haystack    deterministic filler, needles at token-exact depths
cases       one prompt with its expected answer, scored exactly
sweep       run cases resumably into the eval store
results     the stored records summarised: the NIAH grid, position curves
report      tables and plots (heatmap, positions)

The runtime side (reorder and pack documents, the proxy's hook, tokenizers) is
``ponder.context``; these sweeps build on it, never the other way round.
"""

from __future__ import annotations

from ponder.eval.context_sweeps.cases import Case, score
from ponder.eval.context_sweeps.haystack import build_haystack, filler_sentences, insert_needles
from ponder.eval.context_sweeps.kv import docs_case, documents, kv_case, reference_case
from ponder.eval.context_sweeps.niah import NiahSpec, niah_case, niah_cases
from ponder.eval.context_sweeps.sweep import SweepSummary, run_cases

__all__ = [
    "Case",
    "NiahSpec",
    "SweepSummary",
    "build_haystack",
    "docs_case",
    "documents",
    "filler_sentences",
    "insert_needles",
    "kv_case",
    "niah_case",
    "niah_cases",
    "reference_case",
    "run_cases",
    "score",
]
