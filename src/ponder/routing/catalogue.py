"""The plans a router chooses among, and which of them stored samples can replay.

``candidate_plans`` lists the catalogue for a number of tiers (``ONE_TIER``,
``TWO_TIERS``, escalation plans for a third tier and up, ``TOP_TIER`` cascades onto the
largest tier, ``CHECK_PLANS`` votes its programs check, ``PROBE_EXTRA`` for a probe
router, ``PROGRAM_PLANS`` where program samples are stored); ``pool_plans`` keeps those
the stored pools hold enough samples for (``fits``). Training (``ponder.routing.training``)
labels and fits each of them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ponder.eval import Pools
from ponder.plans import PROBE, Plan, parse_plan

ONE_TIER = (
    "cot@0",
    "g+2@0",
    "4@0",
    "g+4+4@0 ~0.75",
    "8@0",
    "16@0",
    "cot@0 > 8@0",
    "g+2@0 > 6@0",
    "4@0 calc",
    "8@0 calc",
    "16@0 calc",
)
TWO_TIERS = (
    "cot@0",
    "g+2@0",
    "4@0",
    "8@0",
    "g+2@0 > cot@1",
    "g+4@0 ~0.75 > cot@1",
    "cot@1",
    "g+2@1",
    "g+4@1",
    "g+2@0 > g+2@1",
    "4+4@1 ~0.75",
    "8@1",
    "4+12@1 ~0.75",
    "16@1",
    "g+2@0 > 4+12@1 ~0.75",
    "cot@0 > 8@0",
    "cot@0 > cot@1",
    "cot@0 > 4+4@1 ~0.75",
    "g+2@0 > 4+4@1 ~0.75",
    "cot@1 > 8@1",
    "8@0 calc",
    "g+2@1 calc",
    "4@1 calc",
    "8@1 calc",
    "4+4@1 ~0.75 calc",
    "16@1 calc",
    "4+12@1 ~0.75 calc",
    "cot@0 > 8@1 calc",
    "g+2@0 > 8@1 calc",
    "g+4@0 ~0.75 > 8@1 calc",
    "g+2@0 > 16@1 calc",
    "g+4@0 ~0.75 > 4+12@1 ~0.75 calc",
    "g+2@1 calc > 8@1 calc",
    "4@1 calc > 12@1 calc",
    "4+4@1 ~0.75 calc > 8@1 calc",
)
"""Plans whose later stages run only when the first draw abstains (cut at max_tokens) or
disagrees: the router's way to act on what the model showed, not only on the text. A
``calc`` stage lets the arithmetic verifier pick among its samples instead of the vote
(it pays on some suites and costs on others, so the router learns where); the last
rows are the cascades with a calc stage: a probe on either tier, then a verified vote
on the larger one."""
PROBE_EXTRA = ("g+8@0", "g+16@0")
"""Further plans for a router that routes after the greedy probe: more votes added to it."""


PROGRAM_PLANS = (
    "pot@{t}",
    "g+2@{t} pot",
    "4+4@{t} ~0.75 pot",
    "8@{t} pot",
    "16@{t} pot",
    "g+2@{t} pot > 8@{t}",
    "g+4@{t} ~0.75 pot > 4+12@{t} ~0.75",
    "pot@{t} > cot@{t}",
    "g+3@{t} check@{t}",
    "g+7@{t} check@{t}",
)
"""Program-of-thought plans on a tier that has program samples: the model writes a short
arithmetic program and its result is the answer (``ponder.answers.program``); the last
rows fall back to step-by-step votes on the same tier when the programs disagree (their
votes join the programs')."""


TOP_TIER = (
    "cot@{t}",
    "g+2@{t}",
    "g+4@{t}",
    "4@{t}",
    "cot@{t} > 4@{t}",
    "g+2@{t} > 2@{t}",
    "4@{t} calc",
    "cot@{b} > cot@{t}",
    "g+2@{b} > cot@{t}",
    "g+4@{b} ~0.75 > cot@{t}",
    "4+4@{b} ~0.75 > cot@{t}",
    "8@{b} > cot@{t}",
    "g+2@{b} > g+2@{t}",
    "4+4@{b} ~0.75 > g+2@{t} > 2@{t}",
)
"""The ladder's plans on its largest tier ``t`` (the tier below it is ``b``): one pass or
a few votes there, and the cascades that let the tier below answer first (a greedy probe
or a vote) and climb only when it abstains or disagrees. Larger stored pools than the
plan draws are not needed: ``fits`` drops what the pools cannot replay."""
TOP_TIER_PROGRAMS = (
    "g+2@{b} pot > cot@{t}",
    "4+4@{b} ~0.75 pot > cot@{t}",
    "8@{b} pot > cot@{t}",
    "g+2@{b} pot > g+2@{t} > 2@{t}",
    "pot@{t} > cot@{t}",
    "g+2@{t} pot > cot@{t}",
    "g+2@{t} pot > g+2@{t}",
)
"""Program cascades onto the largest tier: the tier below (or the largest itself) writes
programs first, which are short; step-by-step answers on the largest tier follow only
when the programs disagree or cannot be read. A stage needs program samples on its tier
(``fits``)."""


CHECK_PLANS = (
    "g+2@{t} check@{t}",
    "g+3@{t} check@{t}",
    "g+3@{b} check@{t}",
    "g+7@{b} check@{t}",
    "g+2@{b} > g+3@{t} check@{t}",
    "g+1@{t} pot > g+3@{t} check@{t}",
    "g+2@{b} pot > g+3@{t} check@{t}",
    "4+4@{b} ~0.75 check@{t} > g+3@{t} check@{t}",
    "g+1@{t} pot > 2@{t} check@{t}",
    "g+2@{t} pot > 2@{t} check@{t}",
    "g+3@{t} pot > 2@{t} check@{t}",
    "g+1@{t} pot > 4@{t} check@{t}",
    "cot@{t} check@{t} > 2@{t} check@{t}",
    "cot@{t} check@{t} > 4@{t} check@{t}",
    "cot@{b} check@{t} > cot@{t} check@{t} > 4@{t} check@{t}",
)
"""Cross-checked votes: step-by-step samples on a tier, picked by the largest tier's
greedy program (the answer it confirms wins if a sample gives it, else the vote), alone
or after a cheaper first stage that settles when its program confirms it. The program is
short, so a larger tier checking a smaller one's votes costs a fraction of its own
step-by-step answer. Two families settle cheaply first and check only when that fails:
programs first (``g+2@t pot > 2@t check@t``: three short programs, settled when they
agree; otherwise two step-by-step votes the greedy program picks among), and one greedy
step-by-step answer with the program (``cot@t check@t > 4@t check@t``: when they agree,
the usual case on a tier that can do the task, the votes are never drawn; when they
differ, the votes join the greedy answer and the same program picks, so it answers as
``g+4@t check@t`` does, for less). A check needs program samples on the checking tier
(``fits``)."""


def candidate_plans(
    tiers: int,
    sizes: Sequence[int] | None = None,
    probe: bool | str = False,
    programs: Sequence[int] | None = None,
) -> list[Plan]:
    """The plans a router chooses among, for one or more tiers (the third tier and up
    get escalation plans too; a router that probes tier 0's greedy answer also
    ``PROBE_EXTRA``). With ``sizes``
    (samples stored per tier), plans that would draw more samples on a tier than were
    stored are left out. ``programs`` (program samples stored per tier, 0 for none)
    adds ``PROGRAM_PLANS`` on each tier that has them, and a cheap probe on tier 0
    before them; the largest tier's programs add ``CHECK_PLANS`` (on one tier, those
    that need no tier below)."""
    extra = PROBE_EXTRA if probe is True or probe == PROBE else ()
    names = list(ONE_TIER if tiers == 1 else TWO_TIERS) + list(extra)
    for t in range(2, tiers):
        names += [f"g+2@0 > cot@{t}", f"g+2@{t - 1} > cot@{t}", f"cot@{t}"]
    for t, stored in enumerate(programs or ()):
        if stored:
            names += [template.format(t=t) for template in PROGRAM_PLANS]
            if t:
                names += [f"g+2@0 > g+2@{t} pot", f"cot@0 > 8@{t} pot"]
    if tiers >= 2:
        top = TOP_TIER + (TOP_TIER_PROGRAMS if programs and any(programs) else ())
        top += CHECK_PLANS if programs and programs[tiers - 1] else ()
        names += [template.format(t=tiers - 1, b=tiers - 2) for template in top]
    elif programs and programs[0]:  # one tier: the check plans that need no tier below
        names += [template.format(t=0) for template in CHECK_PLANS if "{b}" not in template]
    plans = [parse_plan(n) for n in dict.fromkeys(names)]
    if sizes is None:
        return plans
    return [p for p in plans if fits(p, sizes, programs)]


def pool_plans(pools: Pools, probe: bool | str = False) -> list[Plan]:
    """The candidate plans the stored samples can replay: none draws more samples on a
    tier than every item has stored there."""
    sizes = [min(len(p.sampled) for p in pools.by_tier[t.model].values()) for t in pools.tiers]
    programs = [
        min(len(p.sampled) for p in pools.programs[t.model].values())
        if pools.has_programs(i)
        else 0
        for i, t in enumerate(pools.tiers)
    ]
    return candidate_plans(len(pools.tiers), sizes, probe, programs)


def fits(plan: Plan, sizes: Sequence[int], programs: Sequence[int] | None = None) -> bool:
    """True when the plan never draws more samples on a tier than were stored there;
    a program stage needs program samples on its tier (``programs``, per tier)."""
    stored = list(programs or [0] * len(sizes))
    drawn = [0] * len(sizes)
    coded = [0] * len(sizes)
    needs = set()
    for stage in plan.stages:
        (coded if stage.program else drawn)[stage.tier] += stage.n + stage.extra
        if stage.program:
            needs.add(stage.tier)
        if stage.check is not None:
            needs.add(stage.check)
    return all(d <= size for d, size in zip(drawn, sizes, strict=True)) and all(
        stored[t] > 0 and coded[t] <= stored[t] for t in needs
    )
