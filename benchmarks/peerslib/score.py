"""The pure parts of ``benchmarks/peers.py``: the arms, reading an answer, counting the
upstream's spend from its metrics, and the per-arm summaries and ratios. No I/O here,
so ``tests/benchmarks/test_peers.py`` checks all of it in milliseconds."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ponder.answers import answers_match, extract_answer
from ponder.answers.program import run_program
from ponder.eval.live import bootstrap_interval

TIERS = {"0.5b": "qwen2.5-coder-0.5b", "1.5b": "qwen2.5-coder-1.5b"}
"""The local ladder's tiers the benchmark serves, by short name: the upstream's model ids."""
LADDER = "ladder"
"""The arm tier of ``auto`` climbing 0.5B -> 1.5B (the tiers the ladder router was
trained on, and ``ponder ask``'s default pair)."""

OPTILLM_APPROACHES = (
    "none",
    "mcts",
    "bon",
    "moa",
    "rto",
    "z3",
    "self_consistency",
    "pvg",
    "rstar",
    "cot_reflection",
    "plansearch",
    "leap",
    "re2",
    "cepo",
    "mars",
)
"""optillm 0.4.0's built-in approaches (``server.known_approaches``). ``none`` is its
default: a model name without an approach prefix is passed through as one request."""
DEFAULT_OPTILLM = ("none", "self_consistency", "bon", "moa", "cot_reflection", "re2", "plansearch")
DEFAULT_PONDER = ("sc:n=5", "bon:n=3,scorer=calc", "pot", "auto")
"""ponder's arms by default: self-consistency with optillm's five samples, best-of-N
with optillm's three candidates (scored by recomputing the stated arithmetic), one
greedy program, and the router."""
PONDER_STRATEGIES = ("direct", "cot", "pot", "sc", "bon", "auto")

EXTRACTION_RULE = (
    "one rule for both proxies, on the text of the response's first choice: when it holds "
    "a fenced code block that ponder's program reader can evaluate (arithmetic only, never "
    "run by Python), the program's result; otherwise "
    "ponder.answers.extract_answer(text, kind='number') (\\boxed{}, '####', 'Answer:', "
    "'the answer is', else the last number) on the text outside any code block (a program "
    "it cannot evaluate and no number in the prose around it is unreadable). Right when "
    "answers_match(answer, gold, 'number') (numeric, with tolerance)."
)
_FENCE = re.compile(r"```")
_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_TAGS = re.compile(r"</?(output|thinking|reflection)>", re.IGNORECASE)
_ERROR_TEXTS = ("No consistent answer found", "Error: Response was truncated")


class ArmError(ValueError):
    """An arm or option the benchmark cannot run; the message says what to write."""


@dataclass(frozen=True)
class Arm:
    """One approach of one proxy on one tier."""

    proxy: str  # "ponder" or "optillm"
    approach: str  # ponder: a strategy spec ("sc:n=5"); optillm: an approach name
    tier: str  # a key of TIERS, or LADDER

    @property
    def key(self) -> str:
        return f"{self.proxy}|{self.approach}|{self.tier}"

    @property
    def label(self) -> str:
        return f"{self.proxy} {self.approach} @{self.tier}"


def parse_strategy(spec: str) -> tuple[str, dict[str, Any]]:
    """``sc:n=5,stop=esc`` -> (``sc``, {"n": 5, "stop": "esc"}): the strategy and the
    options the proxy takes in ``extra_body={"ponder": ...}`` (numbers, booleans, words)."""
    name, _, rest = spec.partition(":")
    if name not in PONDER_STRATEGIES:
        raise ArmError(
            f"unknown ponder strategy {name!r}: use one of {', '.join(PONDER_STRATEGIES)}"
        )
    options: dict[str, Any] = {}
    for part in filter(None, rest.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ArmError(f"option {part!r} of {spec!r} is not KEY=VALUE")
        options[key.strip()] = _value(value.strip())
    return name, options


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def make_arms(
    ponder: Sequence[str], optillm: Sequence[str], tiers: Sequence[str], ladder: bool
) -> list[Arm]:
    """Every ponder strategy and optillm approach on every tier, then ``auto`` on the
    ladder; refuses unknown names before anything starts."""
    for tier in tiers:
        if tier not in TIERS:
            raise ArmError(f"unknown tier {tier!r}: use {', '.join(TIERS)}")
    for spec in ponder:
        parse_strategy(spec)
    for name in optillm:
        if name not in OPTILLM_APPROACHES:
            raise ArmError(
                f"optillm 0.4.0 has no approach {name!r}: use {', '.join(OPTILLM_APPROACHES)}"
            )
    arms = [Arm("ponder", spec, t) for t in tiers for spec in ponder]
    arms += [Arm("optillm", name, t) for t in tiers for name in optillm]
    if ladder:
        arms.append(Arm("ponder", "auto", LADDER))
    if not arms:
        raise ArmError("no arm to run: give at least one tier, strategy or approach")
    return arms


@dataclass(frozen=True)
class Reading:
    """What the rule read from a response's text: the answer, how, and why it could
    not read one (``defeat``), or a format it read through (``note``)."""

    answer: str | None
    how: str  # "program", "extract" or "none"
    defeat: str | None = None
    note: str | None = None


def read_answer(text: str | None) -> Reading:
    """The answer by ``EXTRACTION_RULE``."""
    if not text or not text.strip():
        return Reading(None, "none", "empty reply")
    note = "tags" if _TAGS.search(text) else None
    if any(marker in text for marker in _ERROR_TEXTS):
        return Reading(None, "none", "the proxy's own error text", note)
    if _FENCE.search(text):
        result = run_program(text)
        if result is not None:
            return Reading(result, "program", None, note)
        # the code's numbers are no answer: read only the prose around it
        text = _BLOCK.sub(" ", text)
        note = "code block not evaluable; prose read"
        if extract_answer(text, kind="number") is None:
            return Reading(None, "none", "a program the reader cannot evaluate", note)
    answer = extract_answer(text, kind="number")
    if answer is None:
        return Reading(None, "none", "no number in the reply", note)
    return Reading(answer, "extract", None, note)


def is_right(answer: str | None, gold: str) -> bool:
    return answer is not None and answers_match(answer, gold, "number")


_SAMPLE = re.compile(r"^(\w+)\{([^}]*)\}\s+([0-9.eE+-]+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text exposition -> {(metric, labels): value} (labelled samples only)."""
    found: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if match := _SAMPLE.match(line.strip()):
            name, labels, value = match.groups()
            found[(name, frozenset(_LABEL.findall(labels)))] = float(value)
    return found


@dataclass
class Spend:
    """What the upstream served between two readings of its metrics, per model id."""

    prompt: dict[str, float] = field(default_factory=dict)
    completion: dict[str, float] = field(default_factory=dict)
    requests: float = 0.0

    @property
    def prompt_tokens(self) -> int:
        return round(sum(self.prompt.values()))

    @property
    def completion_tokens(self) -> int:
        return round(sum(self.completion.values()))

    def flops(self, params: dict[str, float]) -> float:
        """2 x active parameters x every token, per model."""
        models = set(self.prompt) | set(self.completion)
        return sum(
            2.0 * params.get(m, 0.0) * (self.prompt.get(m, 0.0) + self.completion.get(m, 0.0))
            for m in models
        )


def spend_between(
    before: dict[tuple[str, frozenset[tuple[str, str]]], float],
    after: dict[tuple[str, frozenset[tuple[str, str]]], float],
) -> Spend:
    """The upstream's tokens (``ponder_tokens_total``, by model and kind) and chat
    requests answered (``ponder_requests_total`` on /v1/chat/completions) in between."""
    spend = Spend()
    for key, value in after.items():
        delta = value - before.get(key, 0.0)
        if not delta:
            continue
        name, labels = key
        tags = dict(labels)
        if name == "ponder_tokens_total" and tags.get("kind") in ("prompt", "completion"):
            bucket = spend.prompt if tags["kind"] == "prompt" else spend.completion
            bucket[tags["model"]] = bucket.get(tags["model"], 0.0) + delta
        elif name == "ponder_requests_total" and tags.get("endpoint") == "/v1/chat/completions":
            spend.requests += delta
    return spend


@dataclass(frozen=True)
class Summary:
    """One arm on one data set."""

    arm: Arm
    items: int
    accuracy: float
    low: float
    high: float
    completion: float  # per question, as every mean below
    total: float
    flops: float
    requests: float
    wall_s: float
    errors: int
    defeats: int
    examples: tuple[str, ...] = ()


def summarise(arm: Arm, rows: Sequence[dict[str, Any]], reps: int = 1000) -> Summary:
    """Accuracy with a 95% bootstrap interval over items and the means per question; an
    error or an unreadable reply counts as wrong and is counted, with two examples."""
    if not rows:
        raise ArmError(f"{arm.label} has no results to summarise")
    correct = [float(bool(r["correct"])) for r in rows]
    low, high = bootstrap_interval(correct, reps)
    n = len(rows)
    troubled = [r for r in rows if r.get("error") or r.get("defeat")]
    examples = tuple(_example(r) for r in troubled[:2])
    return Summary(
        arm,
        n,
        sum(correct) / n,
        low,
        high,
        _mean(r["completion_tokens"] for r in rows),
        _mean(r["prompt_tokens"] + r["completion_tokens"] for r in rows),
        _mean(r["flops"] for r in rows),
        _mean(r["requests"] for r in rows),
        _mean(r["wall_s"] for r in rows),
        sum(1 for r in rows if r.get("error")),
        sum(1 for r in rows if r.get("defeat") and not r.get("error")),
        examples,
    )


def _mean(values: Iterable[float]) -> float:
    seq = list(values)
    return sum(seq) / len(seq) if seq else 0.0


def _example(row: dict[str, Any]) -> str:
    why = row.get("error") or row.get("defeat")
    text = " ".join(str(row.get("text") or "").split())
    tail = text[-160:] if len(text) > 160 else text
    return f"{row['item']}: {why}: ...{tail!r}"


def best_within(ours: Sequence[Summary], cost: float, by: str = "total") -> Summary | None:
    """ponder's most accurate arm at or below ``cost`` per question (``by``: total
    tokens or flops), None when none is that cheap."""
    fitting = [s for s in ours if getattr(s, by) <= cost]
    return max(fitting, key=lambda s: (s.accuracy, -getattr(s, by)), default=None)


def ratio(ours: float, theirs: float) -> float | None:
    return ours / theirs if theirs else None
