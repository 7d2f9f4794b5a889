"""Counting items and occurrences in short lists."""

from __future__ import annotations

import random

WORDS = ("cat", "dog", "bird", "fish", "frog", "lion", "bear", "goat", "duck", "wolf")
FRUITS = ("apple", "pear", "plum", "fig", "kiwi", "lime", "mango", "peach", "grape", "lemon")

LEVELS = {
    1: "how many items in a list of two or three",
    2: "how many items in a list of five to seven",
    3: "how often one word occurs in a list of eight",
    4: "how often one word occurs in a list of fourteen",
}


def make(rng: random.Random, level: int) -> tuple[str, str]:
    if level in (1, 2):
        size = rng.randint(2, 3) if level == 1 else rng.randint(5, 7)
        items = rng.sample(FRUITS, size)
        listed = ", ".join(items)
        return f"How many fruits are in this list: {listed}?", str(size)
    length = 8 if level == 3 else 14
    target = rng.choice(WORDS)
    others = [w for w in WORDS if w != target]
    hits = rng.randint(2, 4) if level == 3 else rng.randint(3, 7)
    words = [target] * hits + [rng.choice(others) for _ in range(length - hits)]
    rng.shuffle(words)
    listed = ", ".join(words)
    question = f"How many times does the word '{target}' appear in this list: {listed}?"
    return question, str(hits)
