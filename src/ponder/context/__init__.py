"""Long context at serving time: lay documents out so the model finds them.

reorder     lay ranked documents out (ends, recency) and pack them into a budget
apply       the same on a chat request's <document> blocks (the proxy's hook)
tokens      the model's own tokenizer through its server, or an estimate

The sweeps that measure "lost in the middle" (NIAH, KV retrieval, multi-document QA)
live beside the eval harness, in ``ponder.eval.context_sweeps``; importing this package
loads none of them.
"""

from __future__ import annotations

from ponder.context.apply import ContextOptions, ContextReport, apply, parse_options
from ponder.context.reorder import ORDERS, Packed, pack, reorder
from ponder.context.tokens import EstimateTokenizer, HttpTokenizer, Tokenizer, tokenizer_for

__all__ = [
    "ORDERS",
    "ContextOptions",
    "ContextReport",
    "EstimateTokenizer",
    "HttpTokenizer",
    "Packed",
    "Tokenizer",
    "apply",
    "pack",
    "parse_options",
    "reorder",
    "tokenizer_for",
]
