"""Arithmetic word problems with 0..6 chained steps (level 1 is a bare sum)."""

from __future__ import annotations

import random

NAMES = ("Ana", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jon")
THINGS = ("apples", "marbles", "stickers", "books", "coins", "pencils", "shells", "cards")

LEVELS = {
    1: "a bare sum of two one-digit numbers",
    2: "a one-step word problem",
    3: "two steps",
    4: "three steps, with a product",
    5: "five steps, with products",
    6: "seven steps with larger numbers",
}


def _step(rng: random.Random, value: int, thing: str, big: bool) -> tuple[str, int]:
    """One sentence that changes the count, and the new count."""
    ops = ["add", "sub", "mul"] if value < (400 if big else 60) else ["add", "sub", "half"]
    op = rng.choice(ops)
    if op == "add":
        x = rng.randint(2, 40 if big else 15)
        return rng.choice(
            (f"Then they get {x} more {thing}.", f"A friend gives them {x} {thing}.")
        ), value + x
    if op == "sub" and value > 3:
        x = rng.randint(2, min(value - 1, 30 if big else 12))
        return rng.choice(
            (f"Then they give away {x} {thing}.", f"They lose {x} {thing}.")
        ), value - x
    if op == "half" and value % 2 == 0:
        return f"Then they give half of their {thing} to a friend.", value // 2
    k = rng.randint(2, 4 if big else 3)
    word = {2: "twice", 3: "three times", 4: "four times"}[k]
    return f"Then the number of {thing} they have becomes {word} as large.", value * k


def make(rng: random.Random, level: int) -> tuple[str, str]:
    if level == 1:
        a, b = rng.randint(1, 9), rng.randint(1, 9)
        return f"What is {a} + {b}?", str(a + b)
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    steps = {2: 1, 3: 2, 4: 3, 5: 5, 6: 7}[level]
    big = level >= 6
    value = rng.randint(3, 60 if big else 20)
    sentences = [f"{name} has {value} {thing}."]
    for i in range(steps):
        if level == 4 and i == steps - 1 and value < 60:
            k = rng.randint(2, 3)
            sentence, value = (
                f"Then the number of {thing} they have is multiplied by {k}.",
                value * k,
            )
        else:
            sentence, value = _step(rng, value, thing, big)
        sentences.append(sentence)
    sentences.append(f"How many {thing} does {name} have now?")
    return " ".join(sentences), str(value)
