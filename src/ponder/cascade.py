"""Plans and the confidence cascade that runs them, live or on stored samples.

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

A ``calc`` stage picks its answer as best-of-N with the calc verifier does (a sample
whose equations hold beats one stating a false one; ties go to the vote); its share,
which settles it or not, is the picked answer's share of the samples. The caller
passes the scorer (``run_plan(plan, calc_of(question))``), so this module needs
nothing from the strategies.

A sample without an answer (cut off at the length limit) never votes but counts in the
share, so truncation escalates like disagreement. The cascade is written once as a
generator that yields ``Draw`` requests and receives samples, so the live strategy
(``ponder.routing.router``) and offline replay (``ponder.eval.replay``) run exactly the
same logic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ponder.answers import answers_match
from ponder.errors import ConfigError
from ponder.types import Sample
from ponder.voting import tally, top_choice, winner

Pick = Literal["vote", "calc", "check"]
PICKS: tuple[str, ...] = get_args(Pick)
Prompt = Literal["cot", "program"]
PROMPTS: tuple[str, ...] = get_args(Prompt)
SampleScore = Callable[[Sample], float]
"""A sample's verifier score (higher is better): what a ``calc`` stage picks by."""


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


@dataclass
class Decision:
    answer: str | None
    confidence: float
    tier: int
    samples: list[Sample] = field(default_factory=list)
    votes: dict[str, float] = field(default_factory=dict)
    trace: list[dict[str, Any]] = field(default_factory=list)


def _vote(samples: Sequence[Sample]) -> tuple[str | None, float, dict[str, float]]:
    votes = tally(samples)
    answer = winner(votes, samples)
    share = votes[answer] / len(samples) if answer is not None and samples else 0.0
    return answer, share, votes


def _pick(
    stage: Stage, samples: Sequence[Sample], score: SampleScore | None
) -> tuple[str | None, float, dict[str, float], dict[str, Any]]:
    answer, share, votes = _vote(samples)
    if stage.pick == "vote" or score is None or not samples:
        return answer, share, votes, {}
    scores = [score(s) for s in samples]
    best = top_choice(samples, scores)
    answer = samples[best].answer
    share = votes.get(answer, 0.0) / len(samples) if answer is not None else 0.0
    return answer, share, votes, {"pick": stage.pick, f"{stage.pick}_score": round(scores[best], 3)}


def confirmed_by(program: Sample | None, programs: Sequence[Sample] = ()) -> SampleScore:
    """A check stage's score: 1 for a step-by-step sample whose answer is the program's
    (the same text or the same number), else 0 (no program answer: all tie, the vote
    decides). ``programs`` (the tier's own programs pooled from an earlier stage) never
    score: a program does not confirm itself."""
    target = program.answer if program is not None else None
    coded = {id(s) for s in programs}

    def score(sample: Sample) -> float:
        if target is None or id(sample) in coded:
            return 0.0
        return float(answers_match(sample.answer, target, "number"))

    return score


def _settles(stage: Stage, answer: str | None, share: float, picked: dict[str, Any]) -> bool:
    """A stage settles on an answer whose share reaches ``agree``; a check stage, only on
    one its program confirms (a disagreement between the samples and the program is the
    signal to go on, however much the samples agree among themselves)."""
    if answer is None or share < stage.agree:
        return False
    return stage.check is None or picked.get("check_score", 0.0) > 0.0


def _among(sample: Sample, samples: Sequence[Sample]) -> bool:
    """Whether this very sample (not an equal one: two draws may say the same) is held."""
    return any(s is sample for s in samples)


def run_plan(
    plan: Plan,
    calc: SampleScore | None = None,
    probe: tuple[Draw, Sample] | None = None,
) -> Generator[Draw, list[Sample], Decision]:
    """Drive a plan: yields Draw requests, is sent their samples, returns the Decision.
    ``calc`` scores a sample for a ``calc`` stage (``ponder.strategies.verifiers.calc_of``
    for the question at hand); a plan with such a stage needs it.

    ``probe`` is a router's probe (its request and the sample it drew), paid for before
    the plan was chosen. It is never drawn again: a stage that asks for the same greedy
    sample, or a check on its tier's program, is served it. And it votes: the first
    stage on its tier holds it as one of its samples (unless that stage picks by
    ``calc``, which reads prose), so ``cot@1 > 4@1`` after the 1.5B's program settles
    when the step-by-step answer agrees with the program and votes over both otherwise."""
    if calc is None and any(stage.pick == "calc" for stage in plan.stages):
        raise ConfigError(f"plan {plan.name!r} has a calc stage: pass run_plan a calc scorer")
    every: list[Sample] = []
    trace: list[dict[str, Any]] = []
    answer: str | None = None
    share, tier = 0.0, plan.stages[0].tier
    votes: dict[str, float] = {}
    drawn: list[Sample] = []
    programs: dict[int, Sample | None] = {}  # each tier's greedy program, drawn once
    coded: list[Sample] = []  # every program sample drawn so far
    # each greedy sample drawn so far, by its request: a greedy draw is deterministic, so
    # one asked for again (the probe, a check's program) is served, never drawn twice
    served: dict[Draw, Sample] = {}
    kept: Sample | None = None  # the probe's sample
    home = -1  # the probe's tier
    if probe is not None:
        asked, kept = probe
        served[asked], home = kept, asked.tier
        if asked.program:
            programs[home] = kept  # its tier's greedy program: a check reuses it
            coded.append(kept)
    voted = False  # the probe has joined a stage's vote
    for index, stage in enumerate(plan.stages):
        # a stage on the same tier as the one before adds to its votes (cot@0 > 8@0 votes
        # over all nine); a stage on another tier starts a fresh vote
        drawn = list(drawn) if index and stage.tier == tier else []
        tier = stage.tier
        fresh = len(drawn)
        held = 0  # samples this stage holds without drawing them: the probe, a reused one
        if kept is not None and not voted and home == tier and stage.pick != "calc":
            drawn.append(kept)  # paid for already: it votes here
            voted, held = True, 1
        greedy: Sample | None = None
        if stage.greedy:
            request = Draw(tier, True, 1, stage.program)
            if request not in served:
                got = yield request
                drawn += got
                if got:
                    greedy = served[request] = got[0]
            else:
                greedy = served[request]
                if not _among(greedy, drawn):  # not in this vote: served, not drawn
                    drawn.append(greedy)
                    voted, held = voted or greedy is kept, held + 1
        if stage.n:
            drawn += yield Draw(tier, False, stage.n, stage.program)
        if stage.program:
            # this stage's programs: a step-by-step probe voting here is not one of them
            coded += [s for s in drawn[fresh:] if s is not kept and not _among(s, coded)]
            if greedy is not None:
                programs.setdefault(tier, greedy)  # a check on this tier reuses it
        score = calc
        if stage.check is not None:
            if stage.check not in programs:
                request = Draw(stage.check, True, 1, True)
                checks = yield request
                every += checks
                programs[stage.check] = checks[0] if checks else None
                if checks:
                    served[request] = checks[0]
            score = confirmed_by(programs[stage.check], coded)
        answer, share, votes, picked = _pick(stage, drawn, score)
        if not _settles(stage, answer, share, picked) and stage.extra:
            drawn += yield Draw(tier, False, stage.extra, stage.program)
            answer, share, votes, picked = _pick(stage, drawn, score)
        every += [s for s in drawn[fresh:] if not _among(s, every)]  # served ones once
        settled = _settles(stage, answer, share, picked)
        trace.append(
            {
                "step": "stage",
                "plan_stage": stage.name,
                "tier": tier,
                "drawn": len(drawn) - fresh - held,
                "served": held,
                "truncated": sum(s.truncated for s in drawn[fresh:]),
                "pooled": len(drawn),  # what the share is of: this tier's samples so far
                "votes": votes,
                "answer": answer,
                "share": round(share, 3),
                "agree": stage.agree,
                "settled": settled,
                **picked,
            }
        )
        if settled or index == len(plan.stages) - 1:
            break
    return Decision(answer, share, tier, every, votes, trace)
