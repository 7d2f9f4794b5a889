"""Multi-sentence word problems in the style of grade-school math: money, units, rates and
percentages, with irrelevant sentences (as GSM-IC adds them) and numbers written as words.

One running quantity (dollars, cookies or metres) changes sentence by sentence; every
step keeps it a whole number, so the answer is exact. Levels count the steps:

    1  two steps          2  three or four       3  five or six       4  seven or eight
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from ponder.expressions import NUMBER_WORDS

LEVELS = {
    1: "two steps, one distractor sentence",
    2: "three or four steps",
    3: "five or six steps, numbers as words",
    4: "seven or eight steps, two distractors",
}
STEPS = {1: (2, 2), 2: (3, 4), 3: (5, 6), 4: (7, 8)}

NAMES = ("Maya", "Omar", "Lena", "Tariq", "Sofia", "Kenji", "Amara", "Lucas", "Priya", "Noah")
DISTRACTORS = (
    "{n}'s brother is {a} years old.",
    "The shop down the street has {a} windows.",
    "It rained on {a} days last month.",
    "{n} has read {a} books this year.",
    "The bus ride to town takes {a} minutes.",
)

Step = Callable[[random.Random, int], tuple[str, int] | None]


_SMALL = re.compile(r"(?<![$\d.-])\b(\d{1,2})\b(?![\d%-])")


def spoken(value: int, rng: random.Random, words: bool) -> str:
    """A number, written as a word now and then when asked (small numbers only)."""
    return (
        NUMBER_WORDS[value]
        if words and value < len(NUMBER_WORDS) and rng.random() < 0.5
        else str(value)
    )


def in_words(sentence: str, rng: random.Random) -> str:
    """Small bare numbers of a sentence written as words, each with even odds."""
    return _SMALL.sub(lambda m: spoken(int(m[1]), rng, True), sentence)


def _percent(rng: random.Random, v: int, verb: str) -> tuple[str, int] | None:
    fitting = [p for p in (10, 20, 25, 50, 75) if v * p % 100 == 0 and v * p // 100 > 0]
    if not fitting:
        return None
    p = rng.choice(fitting)
    return verb.replace("{p}", str(p)), v - v * p // 100


def _half(rng: random.Random, v: int, text: str) -> tuple[str, int] | None:
    return (text, v // 2) if v % 2 == 0 and v >= 4 else None


def _money(rng: random.Random, v: int, op: str) -> tuple[str, int] | None:
    if op == "add":
        x = rng.randint(3, 40)
        return rng.choice(("{n} earns ${x} walking dogs.", "{n} gets ${x} as a gift.")).replace(
            "{x}", str(x)
        ), v + x
    if op == "buy":
        k, p = rng.randint(2, 6), rng.randint(2, 9)
        if k * p >= v:
            return None
        return f"{{n}} buys {{k}} notebooks for ${p} each.".replace("{k}", str(k)), v - k * p
    if op == "rate":
        k, p = rng.randint(2, 5), rng.randint(4, 12)
        return f"{{n}} works {{k}} hours at ${p} per hour.".replace("{k}", str(k)), v + k * p
    if op == "pct":
        return _percent(rng, v, "{n} puts {p}% of the money into a savings jar.")
    return _half(rng, v, "{n} gives half of the money to a friend.")


def _cookies(rng: random.Random, v: int, op: str) -> tuple[str, int] | None:
    if op == "add":
        x = rng.randint(3, 30)
        return "{n} bakes {x} more cookies.".replace("{x}", str(x)), v + x
    if op == "buy":
        x = rng.randint(2, 20)
        return ("{n} sells {x} cookies.".replace("{x}", str(x)), v - x) if x < v else None
    if op == "rate":
        k, p = rng.randint(2, 5), rng.randint(6, 12)
        return f"{{n}} bakes {{k}} more trays with {p} cookies on each tray.".replace(
            "{k}", str(k)
        ), v + k * p
    if op == "pct":
        return _percent(rng, v, "The family eats {p}% of the cookies.")
    return _half(rng, v, "{n} gives half of the cookies to the neighbours.")


def _metres(rng: random.Random, v: int, op: str) -> tuple[str, int] | None:
    if op == "add":
        x = rng.randint(100, 900)
        return f"Then {{n}} walks {x} more metres.", v + x
    if op == "buy":
        k = rng.randint(1, 3)
        return "Then {n} cycles {k} km.".replace("{k}", str(k)), v + 1000 * k
    if op == "rate":
        k, p = rng.randint(2, 6), rng.choice((200, 250, 400, 500))
        return f"Then {{n}} runs {{k}} laps of a {p}-metre track.".replace("{k}", str(k)), v + k * p
    if op == "pct":
        return None
    return ("Then {n} walks half as far again as so far.", v + v // 2) if v % 2 == 0 else None


THEMES = (
    ("${s}", _money, "{n} has ${s}.", "How many dollars does {n} have now?", (20, 90)),
    ("{s}", _cookies, "{n} has {s} cookies.", "How many cookies does {n} have now?", (12, 60)),
    ("{s}", _metres, "{n} walks {s} km.", "How many metres has {n} covered in total?", (1, 5)),
)
OPS = ("add", "buy", "rate", "pct", "half")


def make(rng: random.Random, level: int) -> tuple[str, str]:
    """One word problem of ``level`` and its exact integer answer."""
    _, step, opening, question, (lo, hi) = rng.choice(THEMES)
    name, words = rng.choice(NAMES), level >= 3
    start = rng.randint(lo, hi)
    value = start * 1000 if step is _metres else start
    said = spoken(start, rng, words) if step is _cookies else str(start)
    sentences = [opening.replace("{s}", said)]
    want = rng.randint(*STEPS[level])
    while len(sentences) <= want:
        made = step(rng, value, rng.choice(OPS))
        if made is not None:
            sentences.append(in_words(made[0], rng) if words else made[0])
            value = made[1]
    for _ in range(1 if level < 4 else 2):
        a = spoken(rng.randint(2, 19), rng, words)
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(DISTRACTORS).replace("{a}", a))
    sentences.append(question)
    return " ".join(s.replace("{n}", name) for s in sentences), str(value)
