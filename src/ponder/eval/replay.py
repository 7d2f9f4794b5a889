"""Evaluate strategies offline from stored samples: maj@k curves, stopping rules,
best-of-N and any routing plan, with bootstrap confidence intervals.

Each repetition shuffles every item's stored samples (so sc@k is a random k-subset,
as in maj@k curves) and resamples the items with replacement (for the interval).
One sampling run per model is enough to draw the whole accuracy-vs-cost curve.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar

import numpy as np

from ponder.answers import answers_match
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.base import BaseBackend
from ponder.cascade import PROBE, Decision, Draw, Plan, Stage, probe_request, run_plan
from ponder.errors import DataError
from ponder.eval.pools import Pools, Spend, spend
from ponder.strategies.base import Strategy, solve_on
from ponder.strategies.best_of_n import BestOfN, BoNOptions
from ponder.strategies.self_consistency import SCOptions, SelfConsistency
from ponder.strategies.tiers import Ladder, LoadsTiers
from ponder.strategies.verifiers import calc_of
from ponder.types import Message, Sample, SamplingParams, as_question, last_user_text

T = TypeVar("T")

PROBE_DRAW = probe_request(PROBE)
"""The default probe: tier 0's greedy step-by-step answer."""


@dataclass(frozen=True)
class Outcome:
    answer: str | None
    correct: bool
    spend: Spend


Evaluator = Callable[[Pools, str, random.Random], Outcome]
"""evaluator(pools, item_id, rng) -> Outcome for one item."""


class PoolBackend(BaseBackend):
    """One item's stored samples served as a backend, for every tier of the run.

    ``tier(t)`` is tier ``t`` as a Backend: a greedy request gets the stored greedy
    sample, a sampled one the next samples of a shuffled queue (so sc@k is a random
    k-subset, as in maj@k curves). Each request is priced as a live one (``spend``),
    so the live strategies run here unchanged and report what they would have spent.
    A request that re-sends an item's prompt to a tier counts that prompt as cached,
    as a backend with prefix caching (llama.cpp's slots, vLLM's automatic prefix
    caching) serves it, unless the stored samples recorded what their backend reused.

    A pool that holds fewer samples than a request asks is never passed off as full:
    ``draw`` serves what is stored and counts the shortfall in ``spent.missing`` (replay
    reports it per strategy); ``generate``, which a live strategy relies on for exactly
    ``n`` samples, raises DataError. A request for programs (``Draw.program``, or a
    live strategy's prompt with the program instruction) is served from the item's
    program pool, with its own queue.
    """

    supports_n = True
    supports_logprobs = True

    def __init__(self, pools: Pools, item_id: str, rng: random.Random, tier: int = 0) -> None:
        self.pools = pools
        self.item_id = item_id
        self.rng = rng
        self.index = tier
        described = pools.tiers[tier]
        self.name = f"replay:{described.model}"
        self.model = described.model_name or described.model
        self.active_params = described.active_params
        self._queues: dict[tuple[int, bool], list[Sample]] = {}
        self._sent: set[tuple[int, bool]] = set()
        self.spent = Spend()
        self._shared: PoolBackend = self

    def tier(self, index: int) -> PoolBackend:
        """The same item's pools on another tier, sharing queues and spend."""
        other = PoolBackend(self.pools, self.item_id, self.rng, index)
        other._shared = self._shared
        return other

    def draw(self, request: Draw) -> list[Sample]:
        root = self._shared
        pool = self.pools.pool(request.tier, self.item_id, request.program)
        key = (request.tier, request.program)  # programs have their own prompt and queue
        if request.greedy:
            got = [pool.greedy] if pool.greedy is not None else []
        else:
            if key not in root._queues:
                queue = list(pool.sampled)
                root.rng.shuffle(queue)
                root._queues[key] = queue
            queue = root._queues[key]
            got, root._queues[key] = queue[: request.n], queue[request.n :]
        seen = key in root._sent
        root._sent.add(key)
        served = [
            replace(s, cached_tokens=s.cached_tokens or (s.prompt_tokens if seen else 0))
            for s in got
        ]
        spent = spend(self.pools.tiers[request.tier], served)
        root.spent = root.spent + replace(
            spent, missing=(1 if request.greedy else request.n) - len(got)
        )
        return served

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        program = PROGRAM_INSTRUCTION in last_user_text(messages)
        got = self.draw(Draw(self.index, params.temperature == 0.0, n, program))
        if len(got) < n:
            raise DataError(
                f"item {self.item_id!r}: {n} samples asked, {len(got)} stored left on "
                f"{self.pools.tiers[self.index].short}"
            )
        return got


def run_now(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits (a strategy on a PoolBackend) without a loop."""
    try:
        work.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    work.close()
    raise RuntimeError("a replayed strategy waited on something other than stored samples")


def grade(pools: Pools, item_id: str, answer: str | None, spent: Spend) -> Outcome:
    item = pools.items[item_id]
    return Outcome(answer, answers_match(answer, item.answer, item.kind), spent)


def probe_draw(backend: PoolBackend, request: Draw = PROBE_DRAW) -> Sample | None:
    """The probe (by default tier 0's greedy sample; ``probe_request("pot@1")`` for a
    tier's greedy program), drawn and paid for as a router's probe."""
    got = backend.draw(request)
    return got[0] if got else None


def run_on_pools(
    plan: Plan,
    backend: PoolBackend,
    probe: Sample | None = None,
    request_of_probe: Draw = PROBE_DRAW,
) -> Decision:
    """A plan's cascade on stored samples. With ``probe`` (already drawn and paid, by
    ``request_of_probe``), the cascade never draws it again and counts it in the vote of
    the plan's first stage on its tier (``run_plan``)."""
    question = backend.pools.items[backend.item_id].question
    steps = run_plan(plan, calc_of(question), (request_of_probe, probe) if probe else None)
    try:
        request = next(steps)
        while True:
            request = steps.send(backend.draw(request))
    except StopIteration as stop:
        decision: Decision = stop.value
    return decision


def plan_evaluator(plan: Plan, probed: bool | str = False) -> Evaluator:
    """A routing plan's cascade (the one ``auto`` runs live) over the stored pools; with
    ``probed`` (True: tier 0's greedy answer; or a probe's name, ``pot@1``), after that
    probe, which it pays for (and reuses if it can)."""
    request = probe_request(probed) if probed else None

    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        backend = PoolBackend(pools, item_id, rng)
        probe = probe_draw(backend, request) if request is not None else None
        decision = run_on_pools(plan, backend, probe, request or PROBE_DRAW)
        return grade(pools, item_id, decision.answer, backend.spent)

    return evaluate


def strategy_evaluator(strategy: Strategy, tier: int, checker: int | None = None) -> Evaluator:
    """A live strategy run on tier ``tier``'s stored samples: the same code as live. With
    ``checker``, the tier its scorer asks (``judge=``: a larger tier checking a smaller
    one) is served tier ``checker``'s stored samples, priced at that tier."""

    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        backend = PoolBackend(pools, item_id, rng, tier)
        solver = strategy
        if checker is not None:
            if not isinstance(strategy, LoadsTiers):
                raise DataError(f"{strategy.name} asks no other tier: drop the checker tier")
            other = backend.tier(checker)
            solver = strategy.with_loader(lambda _spec: other)
        item = pools.items[item_id]
        question = as_question(item.question, item.kind, item.choices)
        result = run_now(solve_on(solver, question, Ladder.of(backend)))
        return grade(pools, item_id, result.answer, backend.spent)

    return evaluate


def pass_evaluator(tier: int, n: int) -> Evaluator:
    """pass@n: right when any of n samples is (an oracle, not a strategy)."""

    def evaluate(pools: Pools, item_id: str, rng: random.Random) -> Outcome:
        backend = PoolBackend(pools, item_id, rng, tier)
        samples = backend.draw(Draw(tier, False, n))
        item = pools.items[item_id]
        right = next((s for s in samples if answers_match(s.answer, item.answer, item.kind)), None)
        best = right or (samples[0] if samples else None)
        return grade(pools, item_id, best.answer if best else None, backend.spent)

    return evaluate


def standard_evaluators(pools: Pools, oracle: bool = False) -> dict[str, Evaluator]:
    """Greedy, maj@k for k = 1, 2, 4, ... N, each stopping rule at N and best-of-N (logprob and
    calc), per tier; and program of thought where the tier has program samples."""
    out: dict[str, Evaluator] = {}
    for t, tier in enumerate(pools.tiers):
        size = min(len(p.sampled) for p in pools.by_tier[tier.model].values())
        out[f"cot@{tier.short}"] = plan_evaluator(Plan((Stage(t),)))
        for k in vote_sizes(size):
            out[f"sc:n={k}@{tier.short}"] = plan_evaluator(Plan((Stage(t, False, k),)))
        if size >= 4:
            for rule in ("esc", "beta", "margin"):
                sc = SelfConsistency(SCOptions(n=size, stop=rule))
                out[f"sc:n={size},stop={rule}@{tier.short}"] = strategy_evaluator(sc, t)
            bon = BestOfN(BoNOptions(n=size, scorer="logprob"))
            out[f"bon:n={size}@{tier.short}"] = strategy_evaluator(bon, t)
            calc = BestOfN(BoNOptions(n=size, scorer="calc"))
            out[f"bon:n={size},scorer=calc@{tier.short}"] = strategy_evaluator(calc, t)
            if oracle:
                out[f"pass@{size}@{tier.short}"] = pass_evaluator(t, size)
        if pools.has_programs(t):
            out.update(program_evaluators(pools, t))
        if size >= 2:
            out.update(crosscheck_evaluators(pools, t, size))
    return out


def crosscheck_evaluators(
    pools: Pools, t: int, n: int, checks: Sequence[int] = (1,)
) -> dict[str, Evaluator]:
    """Best-of-``n`` on tier ``t`` picked by programs (``scorer=crosscheck``; ``checks``
    of them, greedy when 1): of this tier, and of each larger tier as its judge
    (``judge=``), where programs are stored there."""
    tier = pools.tiers[t]
    out: dict[str, Evaluator] = {}
    for j in range(t, len(pools.tiers)):
        if not pools.has_programs(j):
            continue
        judge = f",judge={pools.tiers[j].short}" if j > t else ""
        for c in checks:
            options = BoNOptions(
                n=n,
                scorer="crosscheck",
                checks=c,
                judge=pools.tiers[j].model if j > t else None,
            )
            count = f",checks={c}" if c != 1 else ""
            name = f"bon:n={n},scorer=crosscheck{count}{judge}@{tier.short}"
            out[name] = strategy_evaluator(BestOfN(options), t, j if j > t else None)
    return out


def program_evaluators(pools: Pools, t: int) -> dict[str, Evaluator]:
    """Program of thought on tier ``t``: the greedy program, and the vote over k programs'
    results for k = 1, 2, 4, ... N."""
    tier = pools.tiers[t]
    size = min(len(p.sampled) for p in pools.programs[tier.model].values())
    out = {f"pot@{tier.short}": plan_evaluator(Plan((Stage(t, prompt="program"),)))}
    for k in vote_sizes(size):
        stage = Stage(t, greedy=False, n=k, prompt="program")
        out[f"sc:n={k},program=true@{tier.short}"] = plan_evaluator(Plan((stage,)))
    return out


def vote_sizes(size: int) -> list[int]:
    """The votes replayed from a pool of ``size`` samples: 1, 2, 4, ... and ``size``."""
    sizes = [k for k in (2**e for e in range(size.bit_length())) if k < size]
    return [*sizes, size] if size else []


@dataclass
class Point:
    """One strategy's accuracy and mean cost per item over the replayed items."""

    name: str
    accuracy: float
    low: float
    high: float
    tokens: float
    dollars: float
    flops: float
    samples: float
    by_group: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    cached: float = 0.0
    truncated: float = 0.0  # share of drawn samples that stopped at the length limit
    missing: float = 0.0  # samples per item the strategy asked for but the pools lacked
    seconds: float = 0.0  # wall seconds per item at the tiers' paces (0 without them)

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def group_of(pools: Pools, item_id: str) -> str:
    item = pools.items[item_id]
    return f"{item.suite or 'data'}:{item.difficulty or '-'}"


GROUPED = ("samples", "tokens", "flops", "seconds")
"""The costs ``replay`` also reports per group of items (``Point.extra[f"{key}_by_group"]``)."""


def replay(
    pools: Pools,
    evaluators: Mapping[str, Evaluator],
    reps: int = 100,
    seed: int = 0,
    item_ids: Sequence[str] | None = None,
) -> list[Point]:
    """Accuracy (mean, 95% bootstrap interval) and mean cost of each evaluator."""
    ids = list(item_ids if item_ids is not None else pools.items)
    groups = np.array([group_of(pools, i) for i in ids])
    boot = np.random.default_rng(seed)
    picks = boot.integers(0, len(ids), size=(reps, len(ids)))
    names = sorted(set(groups))
    points = []
    for name, evaluate in evaluators.items():
        correct = np.zeros((reps, len(ids)))
        spent = {f.name: np.zeros((reps, len(ids))) for f in fields(Spend)}  # per field
        for r in range(reps):
            rng = random.Random(seed * 100_003 + r)
            for j, item_id in enumerate(ids):
                out = evaluate(pools, item_id, rng)
                correct[r, j] = out.correct
                for key, matrix in spent.items():
                    matrix[r, j] = getattr(out.spend, key)
        mean = {key: float(matrix.mean()) for key, matrix in spent.items()}

        def by_group(matrix: np.ndarray) -> dict[str, float]:
            return {g: float(matrix[:, groups == g].mean()) for g in names}

        resampled = np.take_along_axis(correct, picks, axis=1).mean(axis=1)
        points.append(
            Point(
                name,
                float(correct.mean()),
                float(np.percentile(resampled, 2.5)),
                float(np.percentile(resampled, 97.5)),
                tokens=mean["tokens"],
                dollars=mean["dollars"],
                flops=mean["flops"],
                samples=mean["samples"],
                by_group=by_group(correct),
                extra={
                    **{f"{key}_by_group": by_group(spent[key]) for key in GROUPED},
                    "interval_by_group": {
                        g: _interval(correct[:, groups == g], boot) for g in names
                    },
                },
                cached=mean["cached"],
                truncated=mean["truncated"] / mean["samples"] if mean["samples"] else 0.0,
                missing=mean["missing"],
                seconds=mean["seconds"],
            )
        )
    return points


def _interval(correct: np.ndarray, boot: np.random.Generator) -> tuple[float, float]:
    """A 95% bootstrap interval of the mean over items of ``correct`` (reps x items)."""
    reps, items = correct.shape
    picks = boot.integers(0, items, size=(reps, items))
    resampled = np.take_along_axis(correct, picks, axis=1).mean(axis=1)
    return float(np.percentile(resampled, 2.5)), float(np.percentile(resampled, 97.5))


def pareto(points: Sequence[Point], cost: str = "dollars") -> list[Point]:
    """The points no other point beats on both accuracy and cost, cheapest first."""
    ordered = sorted(points, key=lambda p: (getattr(p, cost), -p.accuracy))
    front: list[Point] = []
    for point in ordered:
        if not front or point.accuracy > front[-1].accuracy:
            front.append(point)
    return front


def frontier_accuracy(front: Sequence[Point], at_cost: float, cost: str = "dollars") -> float:
    """The frontier's accuracy at a cost: the best point costing no more (a step function)."""
    below = [p.accuracy for p in front if getattr(p, cost) <= at_cost]
    return max(below) if below else 0.0
