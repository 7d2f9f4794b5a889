"""What the step-level searches (``tot``, ``beam``) share: a path of reasoning steps, the
prompt that extends it by one step on any chat backend, and the book-keeping of every
request (so usage, cost and the trace count each node honestly).

A step is a paragraph: the model is asked for the next step only, and generation stops
at the boundary (a blank line by default), so one request with ``n`` draws ``n``
alternative next steps that share the prompt's prefill where the backend supports it.
A path is complete when its last step gives a final answer ("Answer: ...").
"""

from __future__ import annotations

import asyncio
import copy
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import Field, field_validator

from ponder.backends.base import Backend
from ponder.strategies.base import BaseStrategy, Options, annotate, draw, finish
from ponder.strategies.best_of_n import JUDGE_HELP, scorer_for, with_loader
from ponder.strategies.scored import Spent, merged
from ponder.strategies.tiers import Loader, Tier, as_tier
from ponder.strategies.verifiers import PARTIAL, ScoreFn, Scorer, ScorerName
from ponder.types import Cost, Message, Question, Result, Sample, SamplingParams, Usage
from ponder.voting import tally, top_choice

STEP_PROMPT = (
    "{question}\n\nSolve the problem one step at a time, one short step per paragraph. "
    "When you have the final answer, write it on its own line as 'Answer: <answer>'.\n\n"
    "{steps}"
)
FIRST = "Write only the first step."
SO_FAR = "Steps so far:\n{steps}"
NEXT = SO_FAR + "\n\nWrite only the next step."
FINISH_PROMPT = "{question}{so_far}\n\nNow give only the final answer, as 'Answer: <answer>'."
_ECHOES = (
    "one step at a time",
    "write only the first step",
    "write only the next step",
    "steps so far:",
    "answer: <answer>",
)
MIN_STEP_TOKENS = 16  # a level whose steps would get fewer tokens is not drawn
_FINAL = re.compile(r"(?i)\banswer\s*[:：]|\\boxed\s*\{|####")


class StepOptions(Options):
    """Options both step searches share."""

    renamed: ClassVar[dict[str, str]] = {"budget": "token_budget"}  # until the next release

    depth: int = Field(5, ge=1, le=32, description="most steps in a path")
    step_tokens: int = Field(96, ge=8, le=4096, description="completion budget per step")
    temperature: float = Field(0.8, ge=0.0, le=5.0, description="step sampling temperature")
    token_budget: int | None = Field(
        None,
        ge=1,
        description="completion tokens the search may spend (steps and their evaluation); "
        "a level's steps shrink to fit what is left",
    )
    min_steps: int = Field(
        1,
        ge=1,
        le=32,
        description="a final answer given before this many steps is dropped (small models "
        "answer at once, unworked, when asked for one step)",
    )
    scorer: ScorerName = Field("calc", description="step scorer: calc, judge, logprob, reward")
    reward_url: str | None = Field(
        None, description="the reward endpoint for scorer=reward (operator only)"
    )
    judge: str | None = Field(
        None, description=JUDGE_HELP.replace("the programs of scorer=crosscheck", "tot's value")
    )

    @field_validator("scorer", mode="before")
    @classmethod
    def _whole_answers_only(cls, value: object) -> object:
        if value == "crosscheck":
            raise ValueError("crosscheck checks whole answers against programs: use it with bon")
        return value

    def sampling(self) -> SamplingParams:
        return SamplingParams(
            temperature=self.temperature, max_tokens=self.step_tokens, stop=("\n\n",)
        )


@dataclass
class Node:
    """One state of a search: the steps so far, its score, and what drawing it cost."""

    steps: tuple[str, ...]
    score: float = 0.0
    scores: tuple[float, ...] = ()
    tokens: int = 0
    parent: int | None = None
    id: int = 0
    logprob: float | None = None  # the last step's mean token logprob

    @property
    def text(self) -> str:
        return "\n\n".join(self.steps)

    @property
    def complete(self) -> bool:
        return bool(self.steps) and _FINAL.search(self.steps[-1]) is not None

    def trace(self) -> dict[str, Any]:
        return {
            "node": self.id,
            "parent": self.parent,
            "step": self.steps[-1] if self.steps else "",
            "score": self.score,
            "tokens": self.tokens,
            "complete": self.complete,
        }


@dataclass
class Ledger:
    """Every sample drawn and every scoring call of one solve; numbers the nodes."""

    samples: list[Sample] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost: Cost = field(default_factory=Cost)
    nodes: list[Node] = field(default_factory=list)
    by_model: list[Spent] = field(default_factory=list)  # the scoring calls, by role and model

    @property
    def spent(self) -> int:
        return sum(s.completion_tokens for s in self.samples) + self.usage.completion_tokens

    def add(self, node: Node) -> Node:
        node.id = len(self.nodes)
        self.nodes.append(node)
        return node

    def charge(self, usage: Usage, spent_cost: Cost, by: list[Spent]) -> None:
        """Calls made to score or evaluate, not to draw steps (a judge's, an endpoint's)."""
        self.usage = self.usage + usage
        self.cost = self.cost + spent_cost
        self.by_model = merged(self.by_model, by)


def step_messages(question: Question, steps: tuple[str, ...]) -> list[Message]:
    """The question with the path so far, asking for one more step."""
    listed = NEXT.format(steps="\n\n".join(steps)) if steps else FIRST
    return _asking(question, STEP_PROMPT.format(question=question.text, steps=listed))


def finish_messages(question: Question, steps: tuple[str, ...]) -> list[Message]:
    """The question with the path so far, asking for the final answer alone."""
    so_far = "\n\n" + SO_FAR.format(steps="\n\n".join(steps)) if steps else ""
    return _asking(question, FINISH_PROMPT.format(question=question.text, so_far=so_far))


def _asking(question: Question, text: str) -> list[Message]:
    return [*question.messages[:-1], Message("user", text)]


async def extend(
    backend: Backend, question: Question, node: Node, n: int, params: SamplingParams, ledger: Ledger
) -> list[Node]:
    """``n`` children of ``node``, one step each, from one request where possible."""
    drawn = await draw(backend, step_messages(question, node.steps), params, n)
    ledger.samples += drawn
    children = []
    for sample in drawn:
        step = sample.text.strip()
        if step and step not in node.steps and not echoes_prompt(step):
            child = Node((*node.steps, step), tokens=sample.completion_tokens, parent=node.id)
            child.logprob = sample.mean_logprob
            children.append(ledger.add(child))
    return children


def echoes_prompt(step: str) -> bool:
    """Whether a step repeats the step prompt's instructions: small models do, and the
    echoed "Answer: <answer>" would end the path with no answer. Such a step is dropped,
    as is one that repeats an earlier step."""
    lowered = step.lower()
    return any(echo in lowered for echo in _ECHOES)


async def score_nodes(
    scorer: Scorer, question: Question, nodes: list[Node], backend: Backend, ledger: Ledger
) -> list[float]:
    """The scorer's score of each node's path (a partial solution is scored as it stands;
    a complete one with its extracted answer)."""
    if not nodes:
        return []
    paths = [as_sample(node) for node in nodes]
    annotate([p for p, n in zip(paths, nodes, strict=True) if n.complete], question)
    scored = await scorer.score(question.text, paths, backend)
    ledger.charge(scored.usage, scored.cost, scored.spent)
    return scored.scores


def as_sample(node: Node) -> Sample:
    """A node's whole path as one sample (what a scorer or a vote looks at)."""
    logprobs = [node.logprob] if node.logprob is not None else None
    return Sample(
        text=node.text,
        request_id=f"node-{node.id}",
        token_logprobs=logprobs,
        finish_reason="stop" if node.complete else PARTIAL,
    )


async def grow(
    backend: Backend,
    question: Question,
    nodes: list[Node],
    n: int,
    params: SamplingParams,
    ledger: Ledger,
    min_steps: int = 1,
) -> list[Node]:
    """Extend every node by ``n`` children, concurrently (the backend batches what it can).
    A child that gives a final answer in fewer than ``min_steps`` steps is dropped (its
    tokens still count)."""
    grown = await asyncio.gather(
        *(extend(backend, question, node, n, params, ledger) for node in nodes)
    )
    return [
        child
        for children in grown
        for child in children
        if not (child.complete and len(child.steps) < min_steps)
    ]


async def conclude(
    backend: Backend, question: Question, node: Node, options: StepOptions, ledger: Ledger
) -> Node:
    """The best unfinished path, asked greedily for its final answer (one more request)."""
    params = SamplingParams(temperature=0.0, max_tokens=options.step_tokens)
    messages = finish_messages(question, node.steps)
    drawn = await backend.generate(messages, params, 1)
    ledger.samples += drawn
    child = Node((*node.steps, drawn[0].text.strip()), node.score, node.scores, parent=node.id)
    child.tokens = drawn[0].completion_tokens
    return ledger.add(child)


def settle(
    strategy: str,
    asked: Question,
    backend: Backend,
    ledger: Ledger,
    done: list[Node],
    trace: list[dict[str, Any]],
    start: float,
) -> Result:
    """The Result of a search: the best finished path answers (a tie among the best goes
    to the answer most of them give); usage counts every request the search sent."""
    paths = [as_sample(node) for node in done]
    annotate(paths, asked)
    best = top_choice(paths, [node.score for node in done]) if done else None
    chosen = paths[best] if best is not None else None
    score = done[best].score if best is not None else 0.0
    return finish(
        strategy=strategy,
        backend=backend,
        samples=ledger.samples,
        chosen=chosen,
        answer=chosen.answer if chosen else None,
        confidence=score if 0.0 <= score <= 1.0 else 0.0,
        votes=tally(paths),
        wall_s=time.perf_counter() - start,
        trace=trace,
        extra_usage=ledger.usage,
        extra_cost=ledger.cost,
        spent_by=ledger.by_model,
    )


OptionsT = TypeVar("OptionsT", bound=StepOptions)
SearchT = TypeVar("SearchT", bound="StepSearch[Any]")


class StepSearch(BaseStrategy, Generic[OptionsT]):
    """What ``beam`` and ``tot`` share: typed options, a scorer (a name, a Scorer or a
    callable), the judge tier (``judge``, or the ``judge`` option's spec, loaded on first
    use: the scorer's judge, or what evaluates states when the search does so itself),
    the budget check, and how a search that found no final answer ends."""

    options_class: type[OptionsT]

    def __init__(
        self,
        options: OptionsT | None = None,
        scorer: Scorer | ScoreFn | None = None,
        judge: Tier | Backend | None = None,
    ) -> None:
        self.options: OptionsT = options or self.options_class()
        o = self.options
        tier = as_tier(judge if judge is not None else o.judge)
        itself = self.evaluates_itself
        self.judge = tier if itself else None
        self.scorer = scorer_for(
            o.scorer, o.reward_url, None if itself else tier, None, None, scorer
        )

    @property
    def evaluates_itself(self) -> bool:
        """True when states are evaluated by prompts of the search's own, not the scorer."""
        return False

    def with_loader(self: SearchT, load: Loader) -> SearchT:
        """The same search loading its judge tier, if any, with ``load``."""
        clone = copy.copy(self)
        clone.judge = self.judge.with_loader(load) if self.judge is not None else None
        clone.scorer = with_loader(self.scorer, load)
        return clone

    def evaluation_tokens(self, steps: int) -> int:
        """The most completion tokens evaluating ``steps`` new steps may spend."""
        return self.scorer.work(steps).tokens

    def level_sampling(
        self, ledger: Ledger, steps: int, trace: list[dict[str, Any]]
    ) -> SamplingParams | None:
        """How the next level's ``steps`` new steps are drawn: ``step_tokens`` each, or
        fewer so that the level and its evaluation fit what is left of the budget. None
        when the budget is spent (a step would get fewer than MIN_STEP_TOKENS)."""
        params = self.options.sampling()
        if self.options.token_budget is None:
            return params
        left = self.options.token_budget - ledger.spent - self.evaluation_tokens(steps)
        per = min(params.max_tokens, left // max(steps, 1))
        if per < min(MIN_STEP_TOKENS, params.max_tokens):
            trace.append({"step": "budget", "spent": ledger.spent})
            return None
        return replace(params, max_tokens=per)

    async def conclude_best(
        self,
        backend: Backend,
        asked: Question,
        done: list[Node],
        open_paths: list[Node],
        ledger: Ledger,
        trace: list[dict[str, Any]],
    ) -> None:
        """No path gave a final answer: ask the best open one for it."""
        if not done and open_paths:
            done.append(await conclude(backend, asked, open_paths[0], self.options, ledger))
            trace.append(done[-1].trace())
