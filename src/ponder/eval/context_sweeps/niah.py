"""Needle in a haystack over a grid of context lengths x needle depths, RULER-style.

Three modes, all scored exactly (no LLM judge):

* ``single``: one needle ("The special magic number for amber-falcon is: 4818201.");
* ``multi``: ``needles`` values for the same key, the first at the cell's depth and
  the others spread evenly after it (wrapping round); all must be returned;
* ``multikey``: one needle plus ``needles - 1`` distractor needles with other keys at
  seeded depths; only the asked key's value may be returned.

Each cell's needle and haystack come from a seed, so a rerun builds the same prompts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ponder.context.tokens import Tokenizer, count
from ponder.errors import ConfigError
from ponder.eval.context_sweeps.cases import Case, random_key, random_number, rng_for
from ponder.eval.context_sweeps.haystack import FILLERS, build_haystack, insert_needles

MODES = ("single", "multi", "multikey")
INSTRUCTION = (
    "Some special magic numbers are hidden in the text below. Memorise them: "
    "you will be asked about them afterwards."
)
NEEDLE = "The special magic number for {key} is: {value}."
QUESTION = {
    "one": "What is the special magic number for {key} in the text above? "
    "Answer with the number only.",
    "all": "What are all the special magic numbers for {key} in the text above? "
    "Answer with the numbers only.",
}
TEMPLATE_SLACK = 12  # the chat template's tokens around the user message


@dataclass(frozen=True)
class NiahSpec:
    lengths: tuple[int, ...]
    depths: tuple[float, ...]
    mode: str = "single"
    needles: int = 1
    filler: str = "prose"
    samples: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"unknown NIAH mode {self.mode!r}: use one of {', '.join(MODES)}")
        if self.filler not in FILLERS:
            raise ConfigError(f"unknown filler {self.filler!r}: use one of {', '.join(FILLERS)}")
        if not self.lengths or min(self.lengths) < 64:
            raise ConfigError("give context lengths of at least 64 tokens")
        if not self.depths or any(not 0.0 <= d <= 1.0 for d in self.depths):
            raise ConfigError("give depths between 0 and 1 (0: start, 1: end)")
        if not 1 <= self.needles <= 16 or (self.mode == "single" and self.needles != 1):
            raise ConfigError("needles: 1 for single mode, 2 to 16 for multi and multikey")
        if self.mode != "single" and self.needles < 2:
            raise ConfigError(f"{self.mode} mode needs --needles 2 or more")
        if not 1 <= self.samples <= 100:
            raise ConfigError("samples per cell must be between 1 and 100")

    @property
    def task(self) -> str:
        extra = "" if self.mode == "single" else f",needles={self.needles}"
        return f"niah:{self.mode}{extra},filler={self.filler}"


def _needles(
    spec: NiahSpec, depth: float, rng_key: tuple[object, ...]
) -> tuple[str, list[tuple[str, float]], list[str], list[str]]:
    """(key, [(needle, depth)], answers, distractors) of one cell."""
    rng = rng_for(*rng_key)
    key = random_key(rng)
    if spec.mode == "single":
        value = random_number(rng)
        return key, [(NEEDLE.format(key=key, value=value), depth)], [value], []
    if spec.mode == "multi":
        values = [random_number(rng) for _ in range(spec.needles)]
        depths = [(depth + i / spec.needles) % 1.0 for i in range(spec.needles)]
        placed = [(NEEDLE.format(key=key, value=v), d) for v, d in zip(values, depths, strict=True)]
        return key, placed, values, []
    others: list[str] = []
    while len(others) < spec.needles - 1:
        other = random_key(rng)
        if other != key and other not in others:
            others.append(other)
    value = random_number(rng)
    wrong = [random_number(rng) for _ in others]
    placed = [(NEEDLE.format(key=key, value=value), depth)]
    placed += [
        (NEEDLE.format(key=k, value=v), rng.random()) for k, v in zip(others, wrong, strict=True)
    ]
    return key, placed, [value], wrong


def niah_case(
    spec: NiahSpec, tokenizer: Tokenizer, length: int, depth: float, sample: int = 0
) -> Case:
    """The prompt of one cell (length, depth) and sample."""
    key, needles, answers, distractors = _needles(spec, depth, (spec.seed, length, depth, sample))
    question = QUESTION["all" if spec.mode == "multi" else "one"].format(key=key)
    frame = f"{INSTRUCTION}\n\n\n\n{question}"
    overhead = count(tokenizer, frame) + sum(count(tokenizer, " " + n) for n, _ in needles)
    budget = length - overhead - TEMPLATE_SLACK
    if budget < 16:
        raise ConfigError(f"a {length}-token context leaves no room for a haystack: ask for more")
    haystack = build_haystack(tokenizer, budget, spec.filler, seed=spec.seed + sample)
    placed = insert_needles(haystack, needles, tokenizer)
    prompt = f"{INSTRUCTION}\n\n{placed.text}\n\n{question}"
    return Case(
        id=f"L{length}-d{depth:g}-s{sample}",
        task=spec.task,
        prompt=prompt,
        answers=tuple(answers),
        distractors=tuple(distractors),
        length=length,
        depth=depth,
        context_tokens=count(tokenizer, prompt),
        needle_tokens=placed.needle_tokens,
        exact=tokenizer.exact,
        max_tokens=16 * len(answers) + 8,
        extra={"haystack_tokens": placed.tokens, "key": key},
    )


def niah_cases(spec: NiahSpec, tokenizer: Tokenizer) -> list[Case]:
    """Every cell, ordered so that consecutive prompts share the longest prefix
    (same length, deepest needle first), which a server's prefix cache reuses."""
    cells: Sequence[tuple[int, float, int]] = [
        (length, depth, sample)
        for length in sorted(spec.lengths)
        for sample in range(spec.samples)
        for depth in sorted(spec.depths, reverse=True)
    ]
    return [niah_case(spec, tokenizer, length, depth, s) for length, depth, s in cells]
