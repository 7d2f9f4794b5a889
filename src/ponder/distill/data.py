"""Training rows from a teacher's stored runs: which reasoning paths to keep.

A row is one kept path in two shapes that SFT tools read, plus where it came from:

    {"messages":   [{"role": "user", "content": PROMPT}, {"role": "assistant", "content": PATH}],
     "prompt":     [{"role": "user", "content": PROMPT}],
     "completion": [{"role": "assistant", "content": PATH}],
     "meta": {"id", "suite", "level", "teacher", "strategy", "answer", "gold", "filter",
              "votes", "agreement", "sample", "temperature", "completion_tokens", "score"}}

``PROMPT`` is the question with the step-by-step instruction, exactly as sampling mode and
the router's live plans ask it (``eval.runner.messages_for``), so the student learns the
prompt it will be asked. Only complete paths are candidates (stopped on their own, an
answer extracted); then one filter keeps the right ones:

    gold    the answer matches the item's gold answer (the default when items have one)
    agree   the answer is the vote's winner and the vote's share reaches ``min_agreement``
            (the default without gold: self-consistency as the label)
    none    every complete path

A ``scorer`` (``calc``, ``logprob``, ``judge``, ...) may also require ``score >= min_score``.
Near-identical paths of one question are dropped (``dedup``: difflib's similarity of the
normalised texts), and at most ``per_question`` are kept, greedy first, then in order.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ponder.answers import answers_match
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.types import Sample
from ponder.voting import tally, winner

Filter = Literal["auto", "gold", "agree", "none"]
FILTERS: tuple[str, ...] = ("auto", "gold", "agree", "none")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RowOptions:
    filter: Filter = "auto"
    min_agreement: float = 0.5
    per_question: int = 4
    dedup: float = 0.9
    min_score: float = 0.5

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise ConfigError(f"unknown filter {self.filter!r}: use {', '.join(FILTERS)}")
        if not 0.0 <= self.min_agreement <= 1.0:
            raise ConfigError(f"min_agreement must lie in [0, 1], got {self.min_agreement}")
        if self.per_question < 1:
            raise ConfigError(f"per_question must be at least 1, got {self.per_question}")
        if not 0.0 < self.dedup <= 1.0:
            raise ConfigError(f"dedup must lie in (0, 1] (1 drops exact repeats), got {self.dedup}")


@dataclass
class RowCounts:
    """What row building saw, for the summary line."""

    items: int = 0
    excluded: int = 0
    failed: int = 0
    candidates: int = 0
    rejected: int = 0
    duplicates: int = 0
    capped: int = 0
    rows: int = 0
    questions: int = 0  # items with at least one row


def normalized_text(text: str) -> str:
    return _SPACE.sub(" ", text.strip().lower())


def complete(sample: Sample) -> bool:
    """A path that stopped on its own and has an answer: the only candidates."""
    return sample.answer is not None and not sample.truncated and bool(sample.text.strip())


def similar(a: str, b: str, threshold: float) -> bool:
    """Whether two normalised texts are near-identical (``threshold`` 1: equal only)."""
    if a == b:
        return True
    if threshold >= 1.0:
        return False
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= threshold and matcher.ratio() >= threshold


def keep_paths(
    item: Item,
    samples: Sequence[Sample],
    options: RowOptions,
    scores: Sequence[float] | None = None,
    tallied: RowCounts | None = None,
    texts: list[str] | None = None,
    label: str | None = None,
) -> list[tuple[int, Sample, dict[str, Any]]]:
    """The kept paths of one item: (index in ``samples``, sample, provenance fields).

    ``texts`` holds the normalised paths already kept for this item (from its other
    records); it is extended, and the ``per_question`` cap counts them. ``label`` is the
    strategy's own answer when it is not a plain vote (best-of-N, search): ``agree`` then
    keeps paths that reach it."""
    seen = tallied if tallied is not None else RowCounts()
    texts = texts if texts is not None else []
    mode = options.filter
    if mode == "auto":
        mode = "gold" if item.answer else "agree"
    if mode == "gold" and not item.answer:
        raise ConfigError(f"item {item.id} has no gold answer: use filter agree or none")
    votes = tally(samples)
    vote = label if label is not None else winner(votes, samples)
    share = votes.get(vote, 0.0) / len(samples) if vote is not None and samples else 0.0
    kept: list[tuple[int, Sample, dict[str, Any]]] = []
    for index, sample in enumerate(samples):
        if not complete(sample):
            continue
        seen.candidates += 1
        score = scores[index] if scores is not None else None
        if not _passes(item, sample, mode, vote, share, options, score):
            seen.rejected += 1
            continue
        text = normalized_text(sample.text)
        if any(similar(text, other, options.dedup) for other in texts):
            seen.duplicates += 1
            continue
        if len(texts) >= options.per_question:
            seen.capped += 1
            continue
        texts.append(text)
        fields = {"filter": mode, "votes": votes, "agreement": round(share, 4), "score": score}
        kept.append((index, sample, fields))
    return kept


def _passes(
    item: Item,
    sample: Sample,
    mode: str,
    vote: str | None,
    share: float,
    options: RowOptions,
    score: float | None,
) -> bool:
    if score is not None and score < options.min_score:
        return False
    if mode == "gold":
        return answers_match(sample.answer, item.answer, item.kind)
    if mode == "agree":
        return sample.answer == vote and share >= options.min_agreement
    return True


def make_row(
    item: Item,
    prompt: Sequence[dict[str, str]],
    index: int,
    sample: Sample,
    fields: dict[str, Any],
    teacher: str,
    strategy: str,
) -> dict[str, Any]:
    completion = [{"role": "assistant", "content": sample.text.strip()}]
    meta = {
        "id": item.id,
        "suite": item.suite,
        "level": item.difficulty,
        "question": item.question,
        "teacher": teacher,
        "strategy": strategy,
        "answer": sample.answer,
        "gold": item.answer or None,
        **fields,
        "sample": index,
        "temperature": sample.temperature,
        "completion_tokens": sample.completion_tokens,
    }
    return {
        "messages": [*prompt, *completion],
        "prompt": list(prompt),
        "completion": completion,
        "meta": meta,
    }


def question_keys(texts: Iterable[str]) -> set[str]:
    """Normalised question texts, for the train/test overlap check."""
    return {normalized_text(t) for t in texts if t}


ROW_KEYS = ("messages", "prompt", "completion", "meta")


def check_row(row: Any, where: str) -> None:
    """Raise a ConfigError naming ``where`` when ``row`` is not a usable training row."""
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: a row must be a JSON object")
    messages = row.get("messages")
    if not isinstance(messages, list) or len(messages) < 2:
        raise ConfigError(f"{where}: 'messages' must list the prompt and the assistant's reply")
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in ("system", "user", "assistant")
            or not isinstance(message.get("content"), str)
        ):
            raise ConfigError(
                f"{where}: each message needs a role (system, user, assistant) and string content"
            )
    if messages[-1]["role"] != "assistant" or not messages[-1]["content"].strip():
        raise ConfigError(f"{where}: the last message must be a non-empty assistant reply")
