"""Long context: measure "lost in the middle" on any backend, and work around it.

niah        needle in a haystack over lengths x depths (single, multi, multikey)
kv          Liu et al.'s UUID key-value retrieval and multi-document QA
haystack    deterministic filler, needles at token-exact depths
tokens      the model's own tokenizer through its server, or an estimate
sweep       run cases resumably into the eval store; results, plots
reorder     lay ranked documents out (ends, recency) and pack them into a budget
apply       the same on a chat request's <document> blocks (the proxy's hook)
"""

from __future__ import annotations

from ponder.context.apply import ContextOptions, ContextReport, apply, parse_options
from ponder.context.cases import Case, score
from ponder.context.haystack import build_haystack, filler_sentences, insert_needles
from ponder.context.kv import docs_case, documents, kv_case, reference_case
from ponder.context.niah import NiahSpec, niah_case, niah_cases
from ponder.context.reorder import ORDERS, Packed, pack, reorder
from ponder.context.sweep import SweepSummary, run_cases
from ponder.context.tokens import EstimateTokenizer, HttpTokenizer, Tokenizer, tokenizer_for

__all__ = [
    "ORDERS",
    "Case",
    "ContextOptions",
    "ContextReport",
    "EstimateTokenizer",
    "HttpTokenizer",
    "NiahSpec",
    "Packed",
    "SweepSummary",
    "Tokenizer",
    "apply",
    "build_haystack",
    "docs_case",
    "documents",
    "filler_sentences",
    "insert_needles",
    "kv_case",
    "niah_case",
    "niah_cases",
    "pack",
    "parse_options",
    "reference_case",
    "reorder",
    "run_cases",
    "score",
    "tokenizer_for",
]
