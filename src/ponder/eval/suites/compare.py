"""Comparison and ordering of numbers: from the larger of two to a range of eight."""

from __future__ import annotations

import random

LEVELS = {
    1: "the larger of two numbers",
    2: "the largest of five numbers",
    3: "the second smallest of seven numbers",
    4: "largest minus smallest of eight three-digit numbers",
}


def _distinct(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    return rng.sample(range(low, high + 1), count)


def make(rng: random.Random, level: int) -> tuple[str, str]:
    if level == 1:
        a, b = _distinct(rng, 2, 10, 99)
        return f"Which number is larger, {a} or {b}?", str(max(a, b))
    if level == 2:
        nums = _distinct(rng, 5, 10, 99)
        listed = ", ".join(map(str, nums))
        return f"What is the largest of these numbers: {listed}?", str(max(nums))
    if level == 3:
        nums = _distinct(rng, 7, 10, 99)
        listed = ", ".join(map(str, nums))
        return f"What is the second smallest of these numbers: {listed}?", str(sorted(nums)[1])
    nums = _distinct(rng, 8, 100, 999)
    listed = ", ".join(map(str, nums))
    question = (
        f"Here are eight numbers: {listed}. What is the largest of them minus the smallest of them?"
    )
    return question, str(max(nums) - min(nums))
