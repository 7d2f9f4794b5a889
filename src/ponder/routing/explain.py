"""One line on how a cascade decided, read from its trace: what each tier spent and why
it stopped or escalated.

    smollm2-135m: 5 votes split 2/2/1, 7 leads (share 0.40 < 0.75) -> escalated to
    qwen2.5-coder-0.5b: 3 of 3 agree on 7

    smollm2-135m: 4 of 5 agree on 7 (share 0.80 >= 0.75): settled, qwen2.5-coder-0.5b
    not used

The trace is ``auto``'s (``ponder.strategies.auto``): a ``route`` step naming the plan
and the tiers (``models``), then one ``stage`` step per plan stage run
(``ponder.cascade``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ponder.errors import ConfigError
from ponder.plans import parse_plan

Step = Mapping[str, Any]


def explain(trace: Sequence[Step]) -> str | None:
    """What the cascade in ``trace`` spent per tier and why; None when the trace holds
    no cascade stage (another strategy's)."""
    route = next((t for t in trace if t.get("step") == "route"), {})
    labels = [str(x) for x in route.get("models") or route.get("tiers") or []]
    stages = [t for t in trace if t.get("step") == "stage"]
    if not stages:
        return None

    def label(tier: int) -> str:
        return labels[tier] if 0 <= tier < len(labels) else f"tier {tier}"

    line = ""
    for before, stage in zip([None, *stages], stages, strict=False):
        tier = int(stage.get("tier", 0))
        if before is None:
            line += f"{label(tier)}: "
        elif int(before.get("tier", 0)) != tier:
            line += f" -> escalated to {label(tier)}: "
        else:
            line += " -> more samples: "
        line += _votes(stage)
        if stage is not stages[-1]:
            line += f" ({_share(stage, '<')})"
    last = stages[-1]
    skipped = _tiers_not_run(str(route.get("plan") or ""), len(stages), int(last.get("tier", 0)))
    if last.get("settled") and skipped:
        line += f" ({_share(last, '>=')}): settled, {', '.join(map(label, skipped))} not used"
    elif not last.get("settled"):
        line += f" ({_share(last, '<')}, the plan's last stage: its leader stands)"
    return line


def _tiers_not_run(plan: str, run: int, tier: int) -> list[int]:
    """The other tiers the plan's stages after the first ``run`` would have drawn on."""
    try:
        later = parse_plan(plan).stages[run:] if plan else ()
    except ConfigError:
        return []
    return sorted({s.tier for s in later} - {tier})


def _votes(stage: Step) -> str:
    """``5 votes split 2/2/1, 7 leads``, ``3 of 3 agree on 7``, ``1 sample: 7``."""
    pooled = int(stage.get("pooled", stage.get("drawn", 0)))
    counts = sorted((float(v) for v in (stage.get("votes") or {}).values()), reverse=True)
    answer = stage.get("answer")
    silent = pooled - round(sum(counts))
    blank = f", {silent} without an answer" if silent > 0 else ""
    if answer is None:
        return f"{pooled} sample{'s' * (pooled != 1)}, none with an answer"
    if pooled == 1:
        return f"1 sample: {answer}"
    if counts == [1.0]:
        return f"{pooled} samples, 1 answers {answer}{blank}"
    if len(counts) == 1:
        return f"{counts[0]:g} of {pooled} agree on {answer}{blank}"
    split = "/".join(f"{c:g}" for c in counts)
    lead = f"the calc verifier picks {answer}" if stage.get("pick") == "calc" else f"{answer} leads"
    return f"{pooled} votes split {split}, {lead}{blank}"


def _share(stage: Step, sign: str) -> str:
    share, agree = float(stage.get("share", 0.0)), float(stage.get("agree", 1.0))
    return f"share {share:.2f} {sign} {agree:.2f}"
