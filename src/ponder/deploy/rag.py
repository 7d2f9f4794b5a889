"""Long context or RAG? The lecture's decision tree, plus memory and token cost per query.

Tree: a document under ~100K tokens goes straight into a long context; a larger one needs
RAG; if the task needs precise retrieval, use RAG with chunk search, otherwise a long
context fed with summaries. On top of the tree this module prices each option for the
chosen model (prompt tokens and KV-cache bytes per query) and gives the lost-in-the-middle
placement advice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ponder.deploy.arch import Architecture
from ponder.deploy.kv import kv_bytes_for_context
from ponder.deploy.units import fmt_bytes
from ponder.errors import PlanError

LONG_CONTEXT = "long context"
RAG_CHUNKS = "RAG + chunk search"
SUMMARIES = "long context + summaries"

PLACEMENT_ADVICE = (
    "Lost in the middle: models use the start and the end of a long prompt best and miss "
    "material in the middle. Put the key passages (or the best-ranked chunks) first or last, "
    "and the question at the end."
)


@dataclass(frozen=True)
class RagOption:
    """One way to answer a query over the document, priced per query."""

    name: str
    prompt_tokens: int
    kv_bytes: int
    fits_context: bool
    cost_usd: float | None
    note: str


@dataclass(frozen=True)
class RagAdvice:
    decision: str
    reasoning: list[str]
    options: list[RagOption]
    placement_advice: str = PLACEMENT_ADVICE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _option(
    arch: Architecture, name: str, tokens: int, kv_dtype: str, price: float | None, note: str
) -> RagOption:
    fits = arch.max_context is None or tokens <= arch.max_context
    cost = None if price is None else tokens * price / 1e6
    return RagOption(name, tokens, kv_bytes_for_context(arch, tokens, kv_dtype), fits, cost, note)


def _tree(doc: int, precise: bool, threshold: int) -> tuple[str, list[str]]:
    if doc < threshold:
        return LONG_CONTEXT, [
            f"The document has {doc:,} tokens, under the {threshold:,}-token threshold: put it "
            "straight into a long context."
        ]
    steps = [f"The document has {doc:,} tokens, over the {threshold:,}-token threshold: RAG."]
    if precise:
        steps.append("The task needs precise retrieval: RAG with chunk search.")
        return RAG_CHUNKS, steps
    steps.append("No precise retrieval is needed: a long context fed with summaries.")
    return SUMMARIES, steps


def advise_rag(
    arch: Architecture,
    doc_tokens: int,
    precise: bool,
    *,
    threshold: int = 100_000,
    chunk_tokens: int = 512,
    top_k: int = 8,
    question_tokens: int = 200,
    summary_ratio: float = 0.1,
    kv_dtype: str = "auto",
    price_per_mtok: float | None = None,
) -> RagAdvice:
    """Advise long context, RAG with chunk search, or summaries for ``doc_tokens`` tokens."""
    if doc_tokens <= 0 or chunk_tokens <= 0 or top_k <= 0 or not 0 < summary_ratio <= 1:
        raise PlanError(
            "document tokens, chunk size and top-k must be positive and the summary ratio in "
            "(0, 1]; fix --doc-tokens, --chunk-tokens, --top-k or --summary-ratio"
        )
    decision, steps = _tree(doc_tokens, precise, threshold)
    summary = int(doc_tokens * summary_ratio)
    options = [
        _option(
            arch,
            LONG_CONTEXT,
            doc_tokens + question_tokens,
            kv_dtype,
            price_per_mtok,
            "the whole document in every prompt (prefix caching can reuse its KV)",
        ),
        _option(
            arch,
            RAG_CHUNKS,
            top_k * chunk_tokens + question_tokens,
            kv_dtype,
            price_per_mtok,
            f"top {top_k} chunks of {chunk_tokens} tokens; index not priced",
        ),
        _option(
            arch,
            SUMMARIES,
            summary + question_tokens,
            kv_dtype,
            price_per_mtok,
            f"summaries at {summary_ratio:.0%} of the document; summarising reads all "
            f"{doc_tokens:,} tokens once",
        ),
    ]
    chosen = next(o for o in options if o.name == decision)
    if not chosen.fits_context:
        steps.append(
            f"But {arch.name} takes at most {arch.max_context:,} tokens and this prompt has "
            f"{chosen.prompt_tokens:,}: use RAG with chunk search, or a longer-context model."
        )
        decision = RAG_CHUNKS
    chosen = next(o for o in options if o.name == decision)
    other_name = LONG_CONTEXT if decision == RAG_CHUNKS else RAG_CHUNKS
    other = next(o for o in options if o.name == other_name)
    steps.append(
        f"Per query on {arch.name}: {chosen.prompt_tokens:,} prompt tokens and "
        f"{fmt_bytes(chosen.kv_bytes)} of KV cache for '{chosen.name}', against "
        f"{other.prompt_tokens:,} tokens and {fmt_bytes(other.kv_bytes)} for '{other.name}'."
    )
    return RagAdvice(decision=decision, reasoning=steps, options=options)
