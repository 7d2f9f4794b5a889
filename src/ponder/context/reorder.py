"""Working around "lost in the middle": order ranked documents, fit them to a budget.

``reorder`` takes items ranked most relevant first and lays them out:

* ``natural``: as ranked (1, 2, 3, ..., 7);
* ``ends``: the most relevant at both ends, the least in the middle
  (1, 3, 5, 7, 6, 4, 2), as LangChain's LongContextReorder does for odd counts
  (for even counts LangChain puts rank 1 last; here rank 1 is always first);
* ``ends-reversed``: the mirror image (2, 4, 6, 7, 5, 3, 1): rank 1 last, nearest
  the question, for models that favour recency;
* ``recency``: least relevant first, most relevant last (7, 6, ..., 1).

``pack`` keeps the most relevant documents that fit a token budget, truncates the
first one that does not (when asked and worth it), drops the rest, and reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ponder.errors import ConfigError

T = TypeVar("T")
ORDERS = ("natural", "ends", "ends-reversed", "recency")


def reorder(ranked: Sequence[T], order: str = "ends") -> list[T]:
    """``ranked`` (most relevant first) laid out by ``order``; a permutation of it."""
    items = list(ranked)
    if order == "natural":
        return items
    if order == "ends":
        return items[0::2] + items[1::2][::-1]
    if order == "ends-reversed":
        return (items[0::2] + items[1::2][::-1])[::-1]
    if order == "recency":
        return items[::-1]
    raise ConfigError(f"unknown order {order!r}: use one of {', '.join(ORDERS)}")


@dataclass(frozen=True)
class Packed:
    """What ``pack`` kept (indices into the ranked input, in rank order) and why.

    ``texts``: the kept texts, the last one cut short when ``truncated`` is set;
    ``dropped``: indices left out entirely; ``tokens``: the kept texts' tokens.
    """

    texts: tuple[str, ...]
    kept: tuple[int, ...]
    dropped: tuple[int, ...]
    truncated: int | None
    tokens: int
    budget: int


def _truncate(text: str, room: int, count: Callable[[str], int]) -> str:
    """The longest word prefix of ``text`` within ``room`` tokens (binary search)."""
    words = text.split(" ")
    low, high = 0, len(words)
    while low < high:
        mid = (low + high + 1) // 2
        if count(" ".join(words[:mid])) <= room:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low])


def pack(
    ranked: Sequence[str],
    budget: int,
    count: Callable[[str], int],
    *,
    truncate: bool = True,
    min_tokens: int = 32,
) -> Packed:
    """Fit ``ranked`` texts (most relevant first) into ``budget`` tokens.

    Texts are taken in rank order while they fit. The first that does not fit is
    cut to the room left when ``truncate`` is set and at least ``min_tokens`` remain;
    it and every less relevant text are otherwise dropped. Rank order is kept
    (reorder afterwards), so a less relevant text never displaces a more relevant one.
    """
    if budget < 0:
        raise ConfigError(f"the token budget must be zero or more, got {budget}")
    texts: list[str] = []
    kept: list[int] = []
    used, truncated = 0, None
    for index, text in enumerate(ranked):
        size = count(text)
        if used + size <= budget:
            texts.append(text)
            kept.append(index)
            used += size
            continue
        room = budget - used
        if truncate and room >= min_tokens:
            cut = _truncate(text, room, count)
            if cut:
                texts.append(cut)
                kept.append(index)
                used += count(cut)
                truncated = index
        break
    taken = set(kept)
    dropped = tuple(i for i in range(len(ranked)) if i not in taken)
    return Packed(tuple(texts), tuple(kept), dropped, truncated, used, budget)
