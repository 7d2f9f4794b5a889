"""Haystacks: deterministic filler text, cut to a token length, with needles at depths.

Two fillers, both generated offline from a seed (no downloads):

* ``prose``: varied everyday sentences from a small grammar (gkamradt used essays);
* ``noise``: RULER's repeated sentences ("The grass is green. The sky is blue. ...").

A needle goes in at the sentence boundary nearest to the requested depth, where
depth is the fraction of the haystack's tokens before the needle (0: first, 1: last).
Token positions come from the tokenizer's character offsets, so with a real
tokenizer the depth is exact to the token.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from ponder.context.tokens import Tokenizer, tokens_before
from ponder.errors import ConfigError

FILLERS = ("prose", "noise")
NOISE = (
    "The grass is green.",
    "The sky is blue.",
    "The sun is yellow.",
    "Here we go.",
    "There and back again.",
)
_WHO = (
    "The old miller",
    "A young teacher",
    "The baker",
    "My neighbour",
    "The captain",
    "A quiet student",
    "The gardener",
    "Her brother",
    "The shepherd",
    "A tired traveller",
    "The painter",
    "Our landlord",
    "The fisherman",
    "A curious child",
    "The librarian",
)
_DID = (
    "walked slowly to",
    "often thought about",
    "painted a picture of",
    "wrote a letter about",
    "carried bread to",
    "sang a song about",
    "fixed the fence near",
    "told a story about",
    "looked for",
    "cleaned",
    "counted the stones by",
    "watched the birds above",
)
_WHAT = (
    "the quiet river",
    "the market square",
    "the old mill",
    "the northern hills",
    "the little chapel",
    "the stone bridge",
    "the apple orchard",
    "the harbour",
    "the winter garden",
    "the empty barn",
    "the village well",
    "the long road",
)
_WHEN = (
    "in the morning",
    "after the rain",
    "before supper",
    "on Sundays",
    "every spring",
    "late at night",
    "during the fair",
    "when the bells rang",
    "at dawn",
    "once a year",
)


def filler_sentences(kind: str, n: int, seed: int = 0) -> list[str]:
    """``n`` filler sentences of ``kind`` (prose or noise), the same for the same seed."""
    if kind not in FILLERS:
        raise ConfigError(f"unknown filler {kind!r}: use one of {', '.join(FILLERS)}")
    if kind == "noise":
        return [NOISE[i % len(NOISE)] for i in range(n)]
    rng = random.Random(f"prose:{seed}")
    out = []
    for _ in range(n):
        who, did, what = rng.choice(_WHO), rng.choice(_DID), rng.choice(_WHAT)
        when = f" {rng.choice(_WHEN)}" if rng.random() < 0.6 else ""
        out.append(f"{who} {did} {what}{when}.")
    return out


@dataclass(frozen=True)
class Haystack:
    """Filler text of ``tokens`` tokens (at most the length asked for).

    ``cuts``: where a needle can go (character offsets: 0, each space between two
    sentences, the end); ``cut_tokens``: how many tokens come before each cut.
    """

    text: str
    tokens: int
    cuts: tuple[int, ...]
    cut_tokens: tuple[int, ...]
    exact: bool


def build_haystack(
    tokenizer: Tokenizer, tokens: int, kind: str = "prose", seed: int = 0
) -> Haystack:
    """The longest run of whole filler sentences that fits in ``tokens`` tokens."""
    if tokens < 8:
        raise ConfigError(f"a haystack needs at least 8 tokens, got {tokens}")
    n = max(4, tokens // 8)
    while True:
        sentences = filler_sentences(kind, n, seed)
        text = " ".join(sentences)
        offsets = tokenizer.offsets(text)
        if len(offsets) > tokens:
            break
        n *= 2
    cuts, position = [0], 0
    for sentence in sentences:
        position += len(sentence)
        cuts.append(position)  # the space after this sentence (or the end)
        position += 1
    before = [tokens_before(offsets, c) for c in cuts]
    before[-1] = len(offsets)
    keep = max(i for i, t in enumerate(before) if t <= tokens)
    if keep == 0:
        raise ConfigError(f"{tokens} tokens hold no whole filler sentence: ask for more")
    return Haystack(
        text=text[: cuts[keep]],
        tokens=before[keep],
        cuts=tuple(cuts[: keep + 1]),
        cut_tokens=tuple(before[: keep + 1]),
        exact=tokenizer.exact,
    )


def nearest_cut(haystack: Haystack, depth: float) -> int:
    """Index of the sentence boundary closest to ``depth`` (0 <= depth <= 1) in tokens."""
    if not 0.0 <= depth <= 1.0:
        raise ConfigError(f"depth must be between 0 and 1, got {depth}")
    target = depth * haystack.tokens
    cuts = haystack.cut_tokens
    return min(range(len(cuts)), key=lambda i: (abs(cuts[i] - target), i))


@dataclass(frozen=True)
class Placed:
    """A haystack with needles in; ``needle_tokens``: tokens before each needle."""

    text: str
    needle_chars: tuple[int, ...]
    needle_tokens: tuple[int, ...]
    tokens: int


def insert_needles(
    haystack: Haystack, needles: Sequence[tuple[str, float]], tokenizer: Tokenizer
) -> Placed:
    """Insert each (sentence, depth) at the sentence boundary nearest its depth."""
    order = sorted((nearest_cut(haystack, depth), i) for i, (_, depth) in enumerate(needles))
    text, parts, last = haystack.text, [], 0
    chars = [0] * len(needles)
    for cut_index, i in order:
        cut = haystack.cuts[cut_index]
        parts.append(text[last:cut])
        chars[i] = sum(len(p) for p in parts)
        sentence = needles[i][0]
        parts.append(f"{sentence} " if cut == 0 else f" {sentence}")
        last = cut
    parts.append(text[last:])
    placed = "".join(parts)
    offsets = tokenizer.offsets(placed)
    return Placed(
        text=placed,
        needle_chars=tuple(chars),
        needle_tokens=tuple(tokens_before(offsets, c) for c in chars),
        tokens=len(offsets),
    )
