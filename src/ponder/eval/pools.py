"""Stored samples grouped per item and model tier, and what drawing them costs.

A pool is what the sampling mode stored for one item on one model: the greedy sample
and the samples at temperature. Costs are counted as a live run would pay them: each
request's prompt once plus every completion token, priced per model by the one price
table (``ponder.cost.price_for``: a listed price, else a notional one from the active
parameters), so replayed and live results are in the same units.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ponder.cost import Price, active_params_for, price_for
from ponder.errors import DataError
from ponder.eval.datasets import Item
from ponder.eval.runner import annotate_pool, is_program
from ponder.eval.store import Record
from ponder.types import Sample


@dataclass
class Pool:
    item: Item
    model: str
    greedy: Sample | None
    sampled: list[Sample] = field(default_factory=list)


@dataclass(frozen=True)
class Pace:
    """How fast one model runs on one machine, to turn a replayed request into wall
    seconds: prompt tokens per second (prefill) and the seconds of one decode step with
    one sequence and with eight in the batch. A step with ``b`` sequences is interpolated
    linearly between the two (extended past eight); a request of several samples decodes
    until its longest ends, its batch shrinking as shorter ones stop."""

    prefill_tok_s: float
    step_s_1: float
    step_s_8: float

    def __post_init__(self) -> None:
        if min(self.prefill_tok_s, self.step_s_1, self.step_s_8) <= 0:
            raise DataError(f"a pace needs positive rates and step times: {self}")

    def step_s(self, batch: int) -> float:
        return self.step_s_1 + (self.step_s_8 - self.step_s_1) * (batch - 1) / 7

    def seconds(self, prompt: int, completions: Sequence[int]) -> float:
        """Wall seconds of one request: ``prompt`` uncached prompt tokens, then one
        sequence per entry of ``completions`` decoding that many tokens."""
        total, done = prompt / self.prefill_tok_s, 0
        lengths = sorted(completions)
        for k, length in enumerate(lengths):
            total += (length - done) * self.step_s(len(lengths) - k)
            done = length
        return total

    @classmethod
    def from_dict(cls, data: Any) -> Pace:
        try:
            return cls(*(float(data[k]) for k in ("prefill_tok_s", "step_s_1", "step_s_8")))
        except (KeyError, TypeError, ValueError):
            raise DataError(
                f"a pace needs numbers prefill_tok_s, step_s_1 and step_s_8, got {data!r:.120}"
            ) from None


@dataclass(frozen=True)
class Tier:
    """One model of the stored run, with what its tokens cost (and, with a ``pace``, how
    long they take on the machine it was measured on)."""

    model: str
    model_name: str
    active_params: float | None
    price: Price
    pace: Pace | None = None

    @property
    def short(self) -> str:
        name = self.model_name or self.model
        return name.rsplit("/", 1)[-1].removesuffix(".gguf")


@dataclass(frozen=True)
class Spend:
    """Tokens sent and generated (``cached``: prompt tokens served from a prefix cache),
    dollars, FLOPs and samples. ``missing`` counts samples a replayed plan asked for that
    the stored pool did not hold (a short pool): a replay that says "sc@16" on 8 stored
    samples reports it rather than passing sc@8 off as sc@16."""

    tokens: int = 0
    dollars: float = 0.0
    flops: float = 0.0
    samples: int = 0
    cached: int = 0
    truncated: int = 0  # samples that stopped at the length limit
    missing: int = 0  # samples asked for beyond what the pool stored
    seconds: float = 0.0  # wall seconds at the tiers' paces (0 where a tier has none)

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.tokens + other.tokens,
            self.dollars + other.dollars,
            self.flops + other.flops,
            self.samples + other.samples,
            self.cached + other.cached,
            self.truncated + other.truncated,
            self.missing + other.missing,
            self.seconds + other.seconds,
        )


def tier_price(model_name: str, active_params: float | None) -> Price:
    return price_for(model_name, active_params=active_params)


def record_params(record: Record) -> float | None:
    """A record's active parameters: as stored, else from the model itself (a GGUF
    file's header, or the planner's catalog by the served model's name), for runs that
    stored none (a ``.gguf`` path, an ``openai:`` model)."""
    if record.active_params:
        return float(record.active_params)
    return active_params_for(record.model_label)


def spend(tier: Tier, samples: Sequence[Sample]) -> Spend:
    """The cost of one request that returned ``samples`` on ``tier``."""
    if not samples:
        return Spend()
    prompt = samples[0].prompt_tokens
    completion = sum(s.completion_tokens for s in samples)
    dollars = (prompt * tier.price.input + completion * tier.price.output) / 1e6
    flops = 2.0 * (tier.active_params or 0.0) * (prompt + completion)
    cached = min(samples[0].cached_tokens, prompt)
    cut = sum(s.truncated for s in samples)
    seconds = (
        tier.pace.seconds(prompt - cached, [s.completion_tokens for s in samples])
        if tier.pace is not None
        else 0.0
    )
    return Spend(prompt + completion, dollars, flops, len(samples), cached, cut, 0, seconds)


@dataclass
class Pools:
    """Every stored pool, by tier (model spec) and item id, over the items all tiers share.

    ``programs`` holds the program-of-thought pools (``sample:...,program=true``) apart,
    by the same keys; a tier has them for some items, all or none (``has_programs``).
    """

    tiers: list[Tier]
    items: dict[str, Item]
    by_tier: dict[str, dict[str, Pool]]
    programs: dict[str, dict[str, Pool]] = field(default_factory=dict)

    def pool(self, tier: int, item_id: str, program: bool = False) -> Pool:
        model = self.tiers[tier].model
        if not program:
            return self.by_tier[model][item_id]
        found = self.programs.get(model, {}).get(item_id)
        if found is None:
            raise DataError(
                f"item {item_id!r}: no program samples stored on {self.tiers[tier].short} "
                "(ponder eval run -s sample:n=16,program=true)"
            )
        return found

    def has_programs(self, tier: int) -> bool:
        """True when every item has program samples on this tier."""
        mine = self.programs.get(self.tiers[tier].model, {})
        return bool(mine) and all(item_id in mine for item_id in self.items)

    def reorder(self, models: Sequence[str]) -> Pools:
        """The same pools with tiers in the given order (model specs or short names)."""
        chosen = []
        for wanted in models:
            match = [t for t in self.tiers if wanted in (t.model, t.short, t.model_name)]
            if not match:
                known = ", ".join(t.short for t in self.tiers)
                raise DataError(f"no stored samples for model {wanted!r}: the run has {known}")
            chosen.append(match[0])
        return Pools(
            chosen,
            self.items,
            {t.model: self.by_tier[t.model] for t in chosen},
            {t.model: self.programs[t.model] for t in chosen if t.model in self.programs},
        )

    def paced(self, paces: Mapping[str, Pace]) -> Pools:
        """The same pools with every tier timed at its pace in ``paces`` (by model spec or
        short name; other names are ignored), so replay reports wall seconds beside tokens
        and FLOPs. A tier without a pace is an error: seconds on some tiers only would
        pass a part of the time off as all of it."""
        tiers = []
        for t in self.tiers:
            pace = next((paces[n] for n in (t.model, t.short, t.model_name) if n in paces), None)
            if pace is None:
                named = ", ".join(paces) or "none"
                raise DataError(f"no pace for tier {t.short!r} (the paces name {named})")
            tiers.append(replace(t, pace=pace))
        return Pools(tiers, self.items, self.by_tier, self.programs)


def _pool_from(record: Record, program: bool = False) -> Pool:
    item = Item.from_dict(record.item, record.item_id or "item", require_answer=False)
    samples = record.to_samples()
    # stored before truncation was told apart: the cut ones are read again
    annotate_pool([s for s in samples if s.truncated], item, program)
    greedy = next((s for s in samples if s.temperature == 0.0), None)
    sampled = [s for s in samples if s.temperature != 0.0]
    return Pool(item, record.model, greedy, sampled)


class ItemConflict(DataError):
    """Two records give one item id different questions or golds."""


def load_pools(records: Iterable[dict[str, Any]], strategy_prefix: str = "sample") -> Pools:
    """Pools from sampling-mode records (failed items left out). Tiers are ordered from the
    fewest active parameters to the most (the natural escalation order). When one model
    has several sampling records for an item, the one with the most samples is used.
    Program-of-thought records go to ``Pools.programs``; a model with only those is no
    tier. Records that give one item id two questions (or two golds) stop with a
    DataError: runs on other data must not be joined."""
    by_tier: dict[str, dict[str, Pool]] = {}
    programs: dict[str, dict[str, Pool]] = {}
    tiers: dict[str, Tier] = {}
    asked: dict[str, tuple[str, str]] = {}  # item id -> (question, gold), across every record
    for record in map(Record.from_dict, records):
        if record.error or not record.strategy.startswith(strategy_prefix):
            continue
        program = is_program(record.strategy)
        pool = _pool_from(record, program)
        item = pool.item
        seen = asked.setdefault(item.id, (item.question, item.answer))
        if seen != (item.question, item.answer):
            raise ItemConflict(
                f"item {item.id!r} is another question in another record ({seen[0]!r:.60} "
                f"against {item.question!r:.60}, gold {seen[1]!r} against "
                f"{item.answer!r}): pools join items by id, so report runs on other data apart"
            )
        model = pool.model
        known = (programs if program else by_tier).setdefault(model, {})
        have = known.get(pool.item.id)
        if have is None or len(pool.sampled) >= len(have.sampled):
            known[pool.item.id] = pool  # of several sampling runs, the largest pool wins
        if model not in tiers:
            params = record_params(record)
            name = record.model_label
            tiers[model] = Tier(model, name, params, tier_price(name, params))
    if not by_tier:
        only = " (only program samples: replay needs step-by-step ones too)" if programs else ""
        raise DataError(
            f"no sampling records found{only}: run `ponder eval run -s sample:n=16` first"
        )
    shared = set.intersection(*(set(p) for p in by_tier.values()))
    if not shared:
        raise DataError("the models in this run share no finished items")
    first = next(iter(by_tier.values()))
    items = {i: first[i].item for i in first if i in shared}
    ordered = sorted(tiers.values(), key=lambda t: (t.active_params or 0.0, t.model))
    ordered = [t for t in ordered if t.model in by_tier]
    return Pools(
        ordered,
        items,
        {m: {i: p for i, p in by_tier[m].items() if i in shared} for m in by_tier},
        {
            m: {i: p for i, p in programs[m].items() if i in shared}
            for m in programs
            if m in by_tier
        },
    )
