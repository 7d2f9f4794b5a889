"""Plans and the confidence cascade that runs them, live or on stored samples.

A plan is a chain of stages (``ponder.plans``: the grammar, ``parse_plan``, and the probe
a router draws first; those names are exported here too). A stage draws, on one model
tier, an optional greedy sample and ``n`` samples at temperature; when they disagree
(the leading answer's share is below ``agree``) it draws ``extra`` more; when they still
disagree, the plan moves on to its next stage, usually on a stronger tier. The last
stage's answer is final.

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

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ponder.answers import answers_match
from ponder.errors import ConfigError
from ponder.plans import (
    PICKS,
    PROBE,
    PROMPTS,
    Draw,
    Pick,
    Plan,
    Prompt,
    Stage,
    describe_probe,
    parse_plan,
    probe_name,
    probe_request,
)
from ponder.types import Sample
from ponder.voting import tally, top_choice, winner

__all__ = [
    "PICKS",
    "PROBE",
    "PROMPTS",
    "Decision",
    "Draw",
    "Pick",
    "Plan",
    "Prompt",
    "SampleScore",
    "Stage",
    "confirmed_by",
    "describe_probe",
    "parse_plan",
    "probe_name",
    "probe_request",
    "run_plan",
]

SampleScore = Callable[[Sample], float]
"""A sample's verifier score (higher is better): what a ``calc`` stage picks by."""


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
