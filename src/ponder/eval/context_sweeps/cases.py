"""A case is one prompt of a sweep, with what its answer must and must not contain."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

_ADJ = (
    "amber",
    "brisk",
    "calm",
    "dusty",
    "eager",
    "fuzzy",
    "gentle",
    "hollow",
    "icy",
    "jolly",
    "keen",
    "lively",
    "mellow",
    "noble",
    "odd",
    "proud",
    "quiet",
    "rapid",
    "silent",
    "tidy",
)
_NOUN = (
    "anchor",
    "badger",
    "candle",
    "harbor",
    "falcon",
    "garden",
    "helmet",
    "island",
    "jacket",
    "kettle",
    "lantern",
    "meadow",
    "needle",
    "orchard",
    "pepper",
    "quarry",
    "ribbon",
    "saddle",
)


@dataclass(frozen=True)
class Case:
    """One prompt. ``answers`` must all appear in the output, ``distractors`` none.

    ``depth`` (NIAH) is the fraction of the context's tokens before the first needle;
    ``position`` (KV, docs) is the 1-based place of the relevant item among ``items``.
    ``context_tokens`` is measured with the sweep's tokenizer (``exact`` says whether
    it is the model's own).
    """

    id: str
    task: str
    prompt: str
    answers: tuple[str, ...]
    distractors: tuple[str, ...] = ()
    length: int = 0
    depth: float | None = None
    position: int | None = None
    rank: int | None = None
    items: int | None = None
    context_tokens: int = 0
    needle_tokens: tuple[int, ...] = ()
    exact: bool = False
    max_tokens: int = 32
    extra: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        """What a stored record keeps about the case (everything but the prompt)."""
        out = asdict(self)
        out.pop("prompt")
        return out


def rng_for(*parts: object) -> random.Random:
    """A generator seeded by a readable key, the same on every run and platform."""
    return random.Random(":".join(str(p) for p in parts))


def random_key(rng: random.Random) -> str:
    return f"{rng.choice(_ADJ)}-{rng.choice(_NOUN)}"


def random_number(rng: random.Random, digits: int = 7) -> str:
    return str(rng.randrange(10 ** (digits - 1), 10**digits))


_DIGIT_GROUPS = re.compile(r"(?<=\d)[,_](?=\d{3}\b)")


def _found(value: str, text: str) -> bool:
    """``value`` appears in ``text`` as a whole (not inside a longer word or number)."""
    pattern = rf"(?<![\w-]){re.escape(normalise_output(value))}(?![\w-])"
    return re.search(pattern, text) is not None


def normalise_output(text: str) -> str:
    """Lower case, digit groups joined (1,234,567 -> 1234567), whitespace collapsed."""
    text = _DIGIT_GROUPS.sub("", text.lower())
    return " ".join(text.split())


def score(case: Case, output: str) -> float:
    """Exact scoring: the fraction of ``answers`` found whole in the output, or 0 when
    the output also names a distractor's value (listing every candidate is no answer)."""
    text = normalise_output(output or "")
    if any(_found(d, text) for d in case.distractors):
        return 0.0
    if not case.answers:
        return 0.0
    return sum(_found(a, text) for a in case.answers) / len(case.answers)
