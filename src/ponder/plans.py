"""Plans: the grammar of a confidence cascade, and the probe a router draws first.

A plan is a chain of stages. A stage draws, on one model tier, an optional greedy
sample and ``n`` samples at temperature; when they disagree (the leading answer's
share is below ``agree``) it draws ``extra`` more; when they still disagree, the plan
moves on to its next stage, usually on a stronger tier. The last stage's answer is final.

    cot@0                       one greedy sample on tier 0 (the 1x baseline)
    cot@0 > 8@0                 greedy; when it gives no answer (cut at max_tokens without
                                a final-answer marker), 8 votes more (a later stage on the
                                same tier adds to the votes before it)
    g+2@0 > cot@1               greedy + 2 samples on tier 0; unless all three agree,
                                one greedy sample on tier 1
    4+4@0 ~0.75 > cot@1         4 votes, 4 more if the leader has < 75%, then escalate
    g+2@0 > 8@1 calc            on tier 1 the calc verifier picks among the 8 samples
                                (ponder.strategies.verifiers.CalcScorer), not the vote
    g+7@0 check@1               8 samples on tier 0 and tier 1's greedy program: the answer
                                the program confirms wins if any sample gives it, else
                                the vote (a larger tier checking a smaller one: issue 17);
                                a check stage settles only on an answer the program
                                confirms, so a later stage runs when they differ
    cot@1 check@1 > 4@1 check@1 tier 1's greedy answer and its greedy program; when they
                                agree, that is the answer; otherwise 4 votes join the
                                greedy one and the same program picks among the five
    g+2@1 pot                   greedy + 2 samples on tier 1, each asked for a short
                                arithmetic program whose result is its answer
                                (program of thought: ponder.answers.program); pot@1 is
                                the greedy one alone

The cascade that runs a plan, live or on stored samples, is ``ponder.cascade``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ponder.errors import ConfigError

Pick = Literal["vote", "calc", "check"]
PICKS: tuple[str, ...] = get_args(Pick)
Prompt = Literal["cot", "program"]
PROMPTS: tuple[str, ...] = get_args(Prompt)


@dataclass(frozen=True)
class Stage:
    tier: int = 0
    greedy: bool = True
    n: int = 0
    extra: int = 0
    agree: float = 1.0
    pick: Pick = "vote"
    prompt: Prompt = "cot"
    check: int | None = None

    def __post_init__(self) -> None:
        if self.tier < 0 or self.n < 0 or self.extra < 0:
            raise ConfigError(f"a plan stage needs non-negative tier and counts: {self}")
        if not self.greedy and self.n == 0:
            raise ConfigError("a plan stage must draw something: a greedy sample or n > 0")
        if not 0.0 < self.agree <= 1.0:
            raise ConfigError(f"agree must be in (0, 1], got {self.agree}")
        if self.pick not in PICKS:
            picks = ", ".join(PICKS)
            raise ConfigError(f"a stage's pick must be one of {picks}, not {self.pick!r}")
        if self.pick == "calc" and int(self.greedy) + self.n < 2:
            raise ConfigError("a calc stage needs several samples to pick from: e.g. 8@1 calc")
        if self.prompt not in PROMPTS:
            prompts = ", ".join(PROMPTS)
            raise ConfigError(f"a stage's prompt must be one of {prompts}, not {self.prompt!r}")
        if self.program and self.pick == "calc":
            raise ConfigError("a program stage votes on its programs' results; calc reads prose")
        if (self.pick == "check") != (self.check is not None):
            raise ConfigError("a check stage names the tier whose program checks it: 8@0 check@1")
        if self.check is not None and (self.check < 0 or self.program):
            raise ConfigError(
                "check@J cross-checks step-by-step samples against tier J's program: "
                "J must be a tier, and the stage's own samples not programs"
            )

    @property
    def program(self) -> bool:
        """Samples are asked for an arithmetic program; its result is their answer."""
        return self.prompt == "program"

    @property
    def name(self) -> str:
        if self.greedy and not self.n:
            head = "pot" if self.program else "cot"
        else:
            head = (
                ("g+" if self.greedy else "")
                + str(self.n)
                + (f"+{self.extra}" if self.extra else "")
            )
        tail = f" ~{self.agree:g}" if (self.n and self.agree < 1.0) else ""
        tail += " calc" if self.pick == "calc" else ""
        tail += f" check@{self.check}" if self.check is not None else ""
        tail += " pot" if self.program and self.n else ""
        return f"{head}@{self.tier}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "greedy": self.greedy,
            "n": self.n,
            "extra": self.extra,
            "agree": self.agree,
            "pick": self.pick,
            "prompt": self.prompt,
            **({"check": self.check} if self.check is not None else {}),
        }


@dataclass(frozen=True)
class Plan:
    stages: tuple[Stage, ...]

    def __post_init__(self) -> None:
        if not self.stages:
            raise ConfigError("a plan needs at least one stage")

    @property
    def name(self) -> str:
        return " > ".join(s.name for s in self.stages)

    @property
    def max_tier(self) -> int:
        return max(max(s.tier, s.check or 0) for s in self.stages)

    @property
    def max_samples(self) -> int:
        """The most samples the plan may draw: every stage, with its extra draw and the
        program that checks it."""
        return sum(int(s.greedy) + s.n + s.extra + (s.check is not None) for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "stages": [s.to_dict() for s in self.stages]}

    @classmethod
    def from_dict(cls, data: Any) -> Plan:
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list):
            raise ConfigError("a plan must be an object with a list of 'stages'")
        stages = []
        for raw in data["stages"]:
            if not isinstance(raw, dict):
                raise ConfigError(f"a plan stage must be an object, got {raw!r:.60}")
            try:
                tier, n, extra = (_whole(raw, k) for k in ("tier", "n", "extra"))
                agree = float(raw.get("agree", 1.0))
            except ConfigError:
                raise
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(f"a plan stage has a non-numeric field: {raw!r:.80}") from None
            pick, prompt = raw.get("pick", "vote"), raw.get("prompt", "cot")  # Stage checks them
            check = raw.get("check")
            if check is not None and (isinstance(check, bool) or not isinstance(check, int)):
                raise ConfigError(f"a plan stage's check must be a tier number: {raw!r:.80}")
            greedy = raw.get("greedy", True)
            if not isinstance(greedy, bool):
                raise ConfigError(f"a plan stage's 'greedy' must be true or false: {raw!r:.80}")
            stages.append(Stage(tier, greedy, n, extra, agree, pick, prompt, check))
        return cls(tuple(stages))


def _whole(raw: dict[str, Any], key: str) -> int:
    """A stage's count or tier: a whole number (1.0 reads as 1; 1.7, true or "1" do not)."""
    value = raw.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(key)
    if not float(value).is_integer():
        raise ConfigError(f"a plan stage's {key!r} must be a whole number: {raw!r:.80}")
    return int(value)


_STAGE = re.compile(
    r"^(?:(cot|pot)|(g\+)?(\d+)(?:\+(\d+))?)@(\d+)(?:\s*~\s*([0-9.]+))?"
    r"(?:\s+(calc|pot|check@(\d+)))?$"
)


def parse_plan(text: str) -> Plan:
    """``g+2@0 > cot@1`` -> Plan (the ``name`` form read back)."""
    stages = []
    for part in (p.strip() for p in text.split(">")):
        m = _STAGE.match(part)
        if not m:
            raise ConfigError(
                f"cannot read plan stage {part!r}: use e.g. cot@0, g+2@0 ~0.75, 8@1 calc, "
                "8@1 pot or 8@0 check@1"
            )
        head, g, n, extra, tier, agree, tail, check = m.groups()
        pick: Pick = "calc" if tail == "calc" else "check" if check else "vote"
        stages.append(
            Stage(
                int(tier),
                bool(head or g),
                int(n or 0),
                int(extra or 0),
                float(agree) if agree else 1.0,
                pick,
                "program" if "pot" in (head, tail) else "cot",
                int(check) if check else None,
            )
        )
    return Plan(tuple(stages))


@dataclass(frozen=True)
class Draw:
    """A request the cascade wants served: ``n`` samples on ``tier``, greedy or not,
    asked to reason step by step or (``program``) to write an arithmetic program."""

    tier: int
    greedy: bool
    n: int
    program: bool = False


PROBE = "cot@0"
"""The probe a router reads when none is named: tier 0's greedy step-by-step answer."""


def probe_request(spec: str | bool) -> Draw:
    """The draw a probe router makes before choosing a plan: one greedy sample on a tier,
    step by step (``cot@T``) or as a program (``pot@T``); ``True`` (a router file from
    before probes were named) is ``PROBE``. Anything else stops with a ConfigError."""
    text = PROBE if spec is True else spec
    if not isinstance(text, str):
        raise ConfigError(f"a probe is 'cot@T' or 'pot@T' (one greedy draw), not {spec!r}")
    try:
        plan = parse_plan(text)
    except ConfigError as exc:
        raise ConfigError(f"probe {text!r}: {exc}") from None
    [stage, *rest] = plan.stages
    if rest or stage.n or not stage.greedy or stage.pick != "vote":
        raise ConfigError(
            f"probe {text!r}: a probe is one greedy draw on a tier, 'cot@T' or 'pot@T'"
        )
    return Draw(stage.tier, True, 1, stage.program)


def probe_name(spec: str | bool) -> str:
    """The probe's canonical name (``cot@0``, ``pot@1``), checked by ``probe_request``."""
    request = probe_request(spec)
    return f"{'pot' if request.program else 'cot'}@{request.tier}"


def describe_probe(spec: str | bool) -> str:
    """The probe in words: "a greedy program on tier 1"."""
    request = probe_request(spec)
    kind = "greedy program" if request.program else "greedy probe"
    return f"{kind} on tier {request.tier}"
