"""Step-level beam search guided by a process scorer (as in Hugging Face's
search-and-learn): ``n`` beams; at each step the best ``n // width`` paths are kept and
each is extended with ``width`` next steps in one request (``n`` shares the prefill);
every new step is scored and a path's score aggregates its step scores (``last``,
``min`` or ``prod``). Paths that give a final answer leave the beam; the best of them
answers, a tie among the best going to the answer most of them give.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import Work
from ponder.strategies.reward import aggregate
from ponder.strategies.search import (
    Ledger,
    Node,
    StepOptions,
    StepSearch,
    grow,
    score_nodes,
    settle,
)
from ponder.strategies.tiers import Ladder
from ponder.types import Question, Result


class BeamOptions(StepOptions):
    n: int = Field(4, ge=1, le=64, description="beams (paths alive at each step)")
    width: int = Field(2, ge=1, le=16, description="next steps drawn per kept path")
    aggregate: Literal["last", "min", "prod"] = Field(
        "min", description="a path's score from its step scores"
    )


class BeamSearch(StepSearch[BeamOptions]):
    name = "beam"
    options_class = BeamOptions

    def work(self) -> Work:
        o = self.options
        # a level draws n at most, or width when fewer than width beams leave one path
        # kept (n // width < 1), which still grows width children; and one concluding request
        per = max(o.n, o.width)
        samples = per * o.depth + 1
        scoring = self.scorer.work(per * o.depth)
        return Work(samples + scoring.samples, samples * o.step_tokens + scoring.tokens)

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        o = self.options
        backend = await ladder.bottom()
        ledger = Ledger()
        alive = [ledger.add(Node(()))]
        done: list[Node] = []  # paths that gave a final answer
        trace: list[dict[str, Any]] = []
        for depth in range(o.depth):
            per = o.n if depth == 0 else o.width
            params = self.level_sampling(ledger, per * len(alive), trace)
            if params is None:
                break
            children = await grow(backend, question, alive, per, params, ledger, o.min_steps)
            await self._score(children, question, backend, ledger)
            trace += [child.trace() for child in children]
            done += [c for c in children if c.complete]
            live = sorted((c for c in children if not c.complete), key=lambda c: -c.score)
            if not live:  # the last beams stay, to conclude from if nothing finished
                break
            alive = live[: max(1, o.n // o.width)]
            if _settled(done, alive, o.n):
                break
        await self.conclude_best(backend, question, done, alive, ledger, trace)
        head = {"scorer": self.scorer.name, "n": o.n, "width": o.width}
        return settle(self.name, question, backend, ledger, done, [head, *trace], start)

    async def _score(
        self, children: list[Node], asked: Question, backend: Backend, ledger: Ledger
    ) -> None:
        scores = await score_nodes(self.scorer, asked, children, backend, ledger)
        parents = {n.id: n for n in ledger.nodes}
        for child, score in zip(children, scores, strict=True):
            parent = parents[child.parent] if child.parent is not None else None
            child.scores = (*(parent.scores if parent else ()), score)
            child.score = aggregate(list(child.scores), self.options.aggregate)


def _settled(done: list[Node], alive: list[Node], n: int) -> bool:
    """``n`` finished paths, none scoring below the best path still open (a finished path
    that its rivals may still beat does not end the search)."""
    best = sorted((d.score for d in done), reverse=True)[:n]
    return len(best) == n and best[-1] >= alive[0].score
