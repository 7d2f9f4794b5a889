"""What a scorer returns: shared by the built-in scorers (``verifiers``) and the reward
endpoint (``reward``), so neither has to import the other's module for it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ponder.types import Cost, Usage


@dataclass
class Scored:
    """Scores in sample order, plus the usage and cost of any calls made to score."""

    scores: list[float]
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
