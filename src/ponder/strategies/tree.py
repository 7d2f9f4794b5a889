"""Tree of thoughts, breadth-first (Yao et al. 2023): from each of the ``b`` best states,
propose ``k`` next steps; evaluate every new state; keep the best ``b``; repeat up to
``depth`` steps. States are evaluated by

* ``value``: the model judges the partial solution "sure", "likely" or "impossible"
  (1, 0.5, 0; the paper's 20/1/0.001 up to scale), averaged over ``value_n`` samples;
* ``vote``: the model is shown the new states and names the most promising,
  ``value_n`` times; a state scores its share of the votes;
* ``scorer``: a scorer (``calc``, ``judge``, ``logprob``, ``reward``) rates the path.

``judge=`` (operator configuration) sends the value and vote prompts, or the scorer's
judge, to another tier: a larger model evaluating a smaller one's steps, its calls
charged to it in usage, cost and the trace's ``spend`` step.

Identical evaluation prompts are asked once per question (a cache), and identical
proposals from one state are merged. Every node's step, score and tokens are in the
trace.
"""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import Field

from ponder.backends.base import Backend
from ponder.strategies.base import Work
from ponder.strategies.scored import Spent
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
from ponder.types import Message, Question, Result, SamplingParams

VALUE_PROMPT = (
    "{question}\n\nA partial solution:\n{steps}\n\n"
    "Can this partial solution still lead to a correct final answer? "
    "Reply with one word: sure, likely or impossible."
)
VOTE_PROMPT = (
    "{question}\n\nHere are possible next steps:\n{choices}\n\n"
    "Which choice is the most promising? Reply as 'The best choice is N'."
)
_VALUES = {"sure": 1.0, "likely": 0.5, "impossible": 0.0}
_VERDICT = re.compile(r"(?i)\b(sure|likely|impossible)\b")
_CHOICE = re.compile(r"(?i)choice\s+(?:is\s+)?(\d+)|^\s*(\d+)")
EVAL_TOKENS = 12


class ToTOptions(StepOptions):
    k: int = Field(3, ge=1, le=16, description="next steps proposed per state")
    b: int = Field(2, ge=1, le=16, description="states kept per level (breadth)")
    evaluate: Literal["value", "vote", "scorer"] = Field(
        "value", description="how states are judged: value, vote, or the scorer"
    )
    value_n: int = Field(1, ge=1, le=16, description="value or vote samples per evaluation")
    depth: int = Field(4, ge=1, le=32, description="most steps in a path")


class TreeOfThoughts(StepSearch[ToTOptions]):
    name = "tot"
    options_class = ToTOptions

    @property
    def evaluates_itself(self) -> bool:
        return self.options.evaluate != "scorer"

    def work(self) -> Work:
        o = self.options
        proposals = o.k + (o.depth - 1) * o.b * o.k
        steps = Work(proposals + 1, (proposals + 1) * o.step_tokens)
        if o.evaluate == "scorer":
            judged = self.scorer.work(proposals)
        elif o.evaluate == "value":
            judged = Work(proposals * o.value_n, proposals * o.value_n * EVAL_TOKENS)
        else:
            judged = Work(o.depth * o.b * o.value_n, o.depth * o.b * o.value_n * EVAL_TOKENS)
        return Work(steps.samples + judged.samples, steps.tokens + judged.tokens)

    async def answer(self, question: Question, ladder: Ladder) -> Result:
        start = time.perf_counter()
        o = self.options
        backend = await ladder.bottom()
        ledger = Ledger()
        cache: dict[str, float] = {}
        frontier = [ledger.add(Node(()))]
        done: list[Node] = []
        trace: list[dict[str, Any]] = [{"evaluate": o.evaluate, "k": o.k, "b": o.b}]
        for _ in range(o.depth):
            params = self.level_sampling(ledger, o.k * len(frontier), trace)
            if params is None:
                break
            grown = await grow(backend, question, frontier, o.k, params, ledger, o.min_steps)
            children = _merge(grown)
            scores = await self._evaluate(children, question, backend, ledger, cache)
            for child, score in zip(children, scores, strict=True):
                child.score = score
                trace.append(child.trace())
            done += [c for c in children if c.complete]
            live = sorted((c for c in children if not c.complete), key=lambda c: -c.score)
            if not live:  # the last frontier stays, to conclude from if nothing finished
                break
            frontier = live[: o.b]
        await self.conclude_best(backend, question, done, frontier, ledger, trace)
        trace.append({"step": "cache", "entries": len(cache)})
        return settle(self.name, question, backend, ledger, done, trace, start)

    def evaluation_tokens(self, steps: int) -> int:
        o = self.options
        if o.evaluate == "scorer":
            return self.scorer.work(steps).tokens
        asks = steps if o.evaluate == "value" else 1  # a vote judges the level at once
        return asks * o.value_n * EVAL_TOKENS

    async def _evaluate(
        self,
        nodes: list[Node],
        asked: Question,
        backend: Backend,
        ledger: Ledger,
        cache: dict[str, float],
    ) -> list[float]:
        if self.options.evaluate == "scorer":
            return await score_nodes(self.scorer, asked, nodes, backend, ledger)
        if self.options.evaluate == "vote":
            return await self._vote(nodes, asked, backend, ledger, cache)
        return [await self._value(node, asked, backend, ledger, cache) for node in nodes]

    async def _ask(self, prompt: str, backend: Backend, ledger: Ledger) -> list[str]:
        """The evaluation's replies, from the judge tier when there is one (its calls
        charged to it), else from the proposing backend (its calls among the samples)."""
        n = self.options.value_n
        params = SamplingParams(temperature=0.0 if n == 1 else 0.7, max_tokens=EVAL_TOKENS)
        judge = await self.judge.backend() if self.judge is not None else backend
        drawn = await judge.generate([Message("user", prompt)], params, n)
        if self.judge is None:
            ledger.samples += drawn
        else:
            spent = Spent.of("judge", judge, drawn)
            ledger.charge(spent.usage, spent.cost, [spent])
        return [s.text for s in drawn]

    async def _value(
        self, node: Node, asked: Question, backend: Backend, ledger: Ledger, cache: dict[str, float]
    ) -> float:
        prompt = VALUE_PROMPT.format(question=asked.text, steps=node.text)
        if prompt not in cache:
            replies = await self._ask(prompt, backend, ledger)
            cache[prompt] = sum(value_of(r) for r in replies) / len(replies)
        return cache[prompt]

    async def _vote(
        self,
        nodes: list[Node],
        asked: Question,
        backend: Backend,
        ledger: Ledger,
        cache: dict[str, float],
    ) -> list[float]:
        if len(nodes) < 2:
            return [1.0] * len(nodes)
        listed = "\n".join(f"Choice {i + 1}: {n.steps[-1]}" for i, n in enumerate(nodes))
        prompt = VOTE_PROMPT.format(question=asked.text, choices=listed)
        keys = [f"{prompt}\n#{i}" for i in range(len(nodes))]
        if keys[0] not in cache:
            counts = [0.0] * len(nodes)
            for reply in await self._ask(prompt, backend, ledger):
                picked = chosen_index(reply)
                if picked is not None and 0 <= picked < len(nodes):
                    counts[picked] += 1
            cache.update((k, c / self.options.value_n) for k, c in zip(keys, counts, strict=True))
        return [cache[k] for k in keys]


def value_of(reply: str) -> float:
    """The first verdict word of the reply: sure 1, likely 0.5, impossible 0; a reply with
    none counts as unsure (0.25)."""
    match = _VERDICT.search(reply)
    return _VALUES[match.group(1).lower()] if match else 0.25


def chosen_index(reply: str) -> int | None:
    match = _CHOICE.search(reply)
    if match is None:
        return None
    return int(match.group(1) or match.group(2)) - 1


def _merge(nodes: list[Node]) -> list[Node]:
    """Identical proposals from the same state, once."""
    seen: set[tuple[int | None, str]] = set()
    out = []
    for node in nodes:
        key = (node.parent, node.text)
        if key not in seen:
            seen.add(key)
            out.append(node)
    return out
