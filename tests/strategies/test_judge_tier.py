"""A larger tier as the verifier of a smaller one: ``judge=`` names the model that
rates (``scorer=judge``, tot's value and vote) or writes the programs of a cross-check
(``scorer=crosscheck``); its calls are counted in usage, cost, the trace and ``work()``.

Two scripted models stand in for the tiers: files named after catalog models, so FLOPs
come from their parameters (qwen2.5-0.5b proposes, qwen2.5-1.5b judges)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import ponder
from ponder.backends import load_backend, loaded_backend
from ponder.backends.base import Backend
from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.cost import active_params_for
from ponder.errors import ConfigError
from ponder.strategies import make_strategy
from ponder.strategies.base import Bounded, Work
from ponder.types import SamplingParams

Q = "Tom has 12 apples and buys 5 more. How many apples does he have?"
PATHS = ["12 + 5 = 18. Answer: 18", "12 + 5 = 17. Answer: 17", "12 + 5 = 18. Answer: 18"]
RIGHT_PROGRAM = "```python\nanswer = 12 + 5\n```"
UNREADABLE_PROGRAM = "```python\nimport os\n```"
RATINGS = {"Answer: 17": ["9"], "Answer: 18": ["2"]}


def script(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return f"scripted:{path}"


def proposer(tmp_path: Path, program: str = RIGHT_PROGRAM) -> str:
    """Two of three paths say 18 (a false sum); its programs say ``program``."""
    return script(tmp_path, "qwen2.5-0.5b", {"Python program": [program], "apples": PATHS})


def judge(tmp_path: Path) -> str:
    """Rates the path that says 17 high, and writes the right program."""
    return script(tmp_path, "qwen2.5-1.5b", {"Python program": [RIGHT_PROGRAM], **RATINGS})


def ask(model: str, strategy: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["ask", Q, "-m", model, "-s", strategy, "--json"])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.output)
    return out


def spend(trace: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The trace's spend per role."""
    step = next(t for t in trace if t.get("step") == "spend")
    return {m["role"]: m for m in step["models"]}


def flops(model: str, entry: dict[str, Any]) -> float:
    params = active_params_for(model)
    assert params
    return 2.0 * params * (entry["prompt_tokens"] + entry["completion_tokens"])


def test_ask_bon_judged_by_a_larger_tier_reports_its_true_cost(tmp_path: Path) -> None:
    small, large = proposer(tmp_path), judge(tmp_path)
    assert ask(small, "bon:n=3")["answer"] == "18"  # the logprob pick follows the majority
    out = ask(small, f"bon:n=3,scorer=judge,judge={large}")
    assert out["answer"] == "17"
    by_role = spend(out["trace"])
    assert by_role["proposer"]["model"] == "qwen2.5-0.5b"
    assert by_role["judge"]["model"] == "qwen2.5-1.5b"
    assert by_role["proposer"]["requests"] == 1 and by_role["judge"]["requests"] == 3
    assert out["usage"]["requests"] == 4 and out["usage"]["samples"] == 6
    tokens = sum(e["prompt_tokens"] + e["completion_tokens"] for e in by_role.values())
    assert out["usage"]["total_tokens"] == tokens
    expected = flops("qwen2.5-0.5b", by_role["proposer"]) + flops("qwen2.5-1.5b", by_role["judge"])
    assert by_role["judge"]["flops"] == pytest.approx(flops("qwen2.5-1.5b", by_role["judge"]))
    assert out["cost"]["flops"] == pytest.approx(expected)
    assert out["cost"]["dollars"] == pytest.approx(sum(e["dollars"] for e in by_role.values()))


def test_ask_crosscheck_prefers_the_path_its_own_program_agrees_with(tmp_path: Path) -> None:
    out = ask(proposer(tmp_path), "bon:n=3,scorer=crosscheck")
    assert out["answer"] == "17"
    by_role = spend(out["trace"])
    assert by_role["program"]["model"] == "qwen2.5-0.5b"
    assert by_role["program"]["samples"] == 1
    assert out["usage"]["samples"] == 4 and out["usage"]["requests"] == 2
    score = next(t for t in out["trace"] if t.get("step") == "score")
    assert score["scorer"] == "crosscheck" and score["programs"] == ["17"]


def test_ask_crosscheck_on_a_larger_tier_draws_its_programs_there(tmp_path: Path) -> None:
    small = proposer(tmp_path, program=UNREADABLE_PROGRAM)
    alone = ask(small, "bon:n=3,scorer=crosscheck")
    assert alone["answer"] == "18"  # no program answers: every path ties, the majority wins
    out = ask(small, f"bon:n=3,scorer=crosscheck,judge={judge(tmp_path)}")
    assert out["answer"] == "17"
    by_role = spend(out["trace"])
    assert by_role["program"]["model"] == "qwen2.5-1.5b"
    assert out["cost"]["flops"] == pytest.approx(
        flops("qwen2.5-0.5b", by_role["proposer"]) + flops("qwen2.5-1.5b", by_role["program"])
    )


def paths(prompt: str, params: SamplingParams, k: int) -> str:
    if "Python program" in prompt:
        return RIGHT_PROGRAM
    return PATHS[k % len(PATHS)]


def rate(prompt: str, params: SamplingParams, k: int) -> str:
    return "9" if "Answer: 17" in prompt else "2"


def test_python_api_takes_a_judge_spec_or_backend(tmp_path: Path) -> None:
    small = ScriptedBackend(paths, model="small", active_params=5e8)
    large = ScriptedBackend(rate, model="large", active_params=1.5e9)
    result = ponder.ask(Q, small, "bon:n=3,scorer=judge", judge=large)
    assert result.answer == "17" and len(large.calls) == 3
    by_role = spend(result.trace)
    judged = by_role["judge"]
    assert judged["model"] == "large"
    drawn = by_role["proposer"]
    assert result.cost.flops == pytest.approx(
        2 * 5e8 * (drawn["prompt_tokens"] + drawn["completion_tokens"])
        + 2 * 1.5e9 * (judged["prompt_tokens"] + judged["completion_tokens"])
    )
    by_spec = ponder.ask(Q, small, "bon:n=3,scorer=judge", judge=judge(tmp_path))
    assert by_spec.answer == "17" and spend(by_spec.trace)["judge"]["model"] == "qwen2.5-1.5b"


async def test_the_judge_is_loaded_once_on_first_use_never_per_question(tmp_path: Path) -> None:
    spec = judge(tmp_path)
    strategy = make_strategy(f"bon:n=3,scorer=judge,judge={spec}")
    assert loaded_backend(spec) is None  # built, not loaded: a question may never need it
    loads: list[str] = []

    def load(wanted: str) -> Backend:
        loads.append(wanted)
        return load_backend(wanted, cache=False)

    loading = strategy.with_loader(load)  # type: ignore[attr-defined]
    small = ScriptedBackend(paths, model="small")
    for question in (Q, Q.replace("12", "13")):
        await loading.solve(question, small)
    assert loads == [spec]


async def test_beam_and_tot_send_their_evaluations_to_the_judge(tmp_path: Path) -> None:
    def steps(prompt: str, params: SamplingParams, k: int) -> str:
        if "only the first step" in prompt:
            return "12 + 5 = 17" if k % 2 == 1 else "12 + 5 = 18"
        return "Answer: 17" if "= 17" in prompt else "Answer: 18"

    def judging(prompt: str, params: SamplingParams, k: int) -> str:
        if "sure, likely or impossible" in prompt:
            return "impossible" if "= 18" in prompt else "sure"
        return "1" if "18" in prompt.split("partial solution")[-1] else "9"

    for spec in ("beam:n=2,width=1,depth=3,scorer=judge", "tot:k=2,b=1,depth=3"):
        small = ScriptedBackend(steps, model="small", active_params=5e8)
        large = ScriptedBackend(judging, model="large", active_params=1.5e9)
        result = await make_strategy(spec, judge=large).solve(Q, small)
        assert result.answer == "17", spec
        asked = [c["messages"][-1].content for c in small.calls]
        assert not any("partial solution" in p for p in asked), spec
        assert large.calls and all(s.model == "small" for s in result.samples)
        by_role = spend(result.trace)
        assert by_role["judge"]["model"] == "large"
        assert by_role["judge"]["requests"] == len(large.calls)
        assert result.usage.requests == len(small.calls) + len(large.calls)


def test_work_counts_the_judge_and_the_programs(tmp_path: Path) -> None:
    spec = judge(tmp_path)
    judged = make_strategy(f"bon:n=4,max_tokens=100,scorer=judge,judge={spec}")
    assert isinstance(judged, Bounded) and judged.work() == Work(8, 400 + 4 * 8)
    checked = make_strategy(f"bon:n=4,max_tokens=100,scorer=crosscheck,checks=2,judge={spec}")
    assert isinstance(checked, Bounded) and checked.work() == Work(6, 600)
    plain = make_strategy("tot:k=2,b=1,depth=2")
    valued = make_strategy(f"tot:k=2,b=1,depth=2,judge={spec}")
    assert isinstance(plain, Bounded) and isinstance(valued, Bounded)
    assert valued.work() == plain.work()
    assert loaded_backend(spec) is None


NOTHING_USES_IT = "nothing here uses judge="


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ("bon:scorer=logprob,judge=scripted:x.json", NOTHING_USES_IT),
        ("bon:scorer=calc,judge=scripted:x.json", NOTHING_USES_IT),
        ("beam:scorer=calc,judge=scripted:x.json", NOTHING_USES_IT),
        ("tot:evaluate=scorer,scorer=calc,judge=scripted:x.json", NOTHING_USES_IT),
        ("beam:scorer=crosscheck", "whole answers"),
        ("bon:scorer=crosscheck,program=true", "drop program=true"),
        ("bon:scorer=judge,checks=2", "checks= is for scorer=crosscheck"),
    ],
)
def test_options_nothing_uses_are_refused(spec: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said):
        make_strategy(spec)
