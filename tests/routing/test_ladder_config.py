"""The local ladder as a configuration: ``auto:tiers=ladder`` and ``serve --tiers ladder``."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

import ponder.strategies.auto as auto_module
from ponder import models
from ponder.answers.program import PROGRAM_INSTRUCTION
from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.cli.serve import ladder_specs
from ponder.routing import FEATURES, Router, parse_plan
from ponder.routing.router import PlanModel, same_model
from ponder.routing.router_file import shipped_routers
from ponder.strategies.auto import AutoOptions, AutoStrategy, tier_specs


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PONDER_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_ladder_names_the_three_local_tiers_smallest_first() -> None:
    specs = tier_specs("ladder")
    assert specs == [f"embedded:{name}" for name in models.LADDER]
    sizes = [models.REGISTRY[name].params for name in models.LADDER]
    assert sizes == sorted(sizes) and len(specs) == 3
    assert tier_specs("scripted:a.json+ladder")[0] == "scripted:a.json"


def test_uncached_tiers_are_skipped_with_one_notice_each(empty_cache, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="ponder"):
        assert tier_specs("ladder", uncached="skip") == []
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 3 and all("not downloaded" in n for n in notices)


def test_ask_on_the_ladder_skips_what_is_not_downloaded(empty_cache: Path) -> None:
    script = empty_cache / "script.json"
    script.write_text(json.dumps({"2 + 2": ["Answer: 4"] * 8}))
    spec = "auto:tiers=ladder,uncached=skip,plan=g+2@0"
    result = CliRunner().invoke(
        cli, ["ask", "What is 2 + 2?", "-m", f"scripted:{script}", "-s", spec, "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"] == "4"
    assert "not downloaded" in result.stderr
    assert not (empty_cache / "cache").exists() or not any((empty_cache / "cache").iterdir())


def test_ask_on_the_ladder_fetches_missing_tiers_with_progress(
    empty_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    def fake_pull(name: str, progress=None, force: bool = False) -> Path:
        assert progress is not None  # the user sees the download
        fetched.append(name)
        raise models.ModelFetchError(f"offline test: {name}")

    monkeypatch.setattr(models, "pull", fake_pull)
    result = CliRunner().invoke(cli, ["ask", "2 + 2?", "-s", "auto:tiers=ladder"])
    assert result.exit_code != 0
    assert fetched == ["smollm2-135m"]  # the first missing tier, before any model loads
    assert "offline test" in result.output and "Traceback" not in result.output


def test_serve_ladder_adds_the_ladder_to_the_served_models() -> None:
    assert ladder_specs([]) == [f"embedded:{name}" for name in models.LADDER]
    mine = ["embedded:qwen2.5-coder-0.5b?threads=1"]
    assert ladder_specs(mine) == [*mine, "embedded:smollm2-135m", "embedded:qwen2.5-coder-1.5b"]


def test_a_router_trained_on_the_upper_tiers_runs_on_them_within_the_ladder() -> None:
    question = "What is 6 x 7?"
    tiny = ScriptedBackend({question: ["Answer: 1"] * 8}, model="tiny")
    small = ScriptedBackend({question: ["Answer: 42"] * 8}, model="small")
    big = ScriptedBackend({question: ["Answer: 42"] * 8}, model="big")
    plan = PlanModel(parse_plan("cot@0"), [0.0] * len(FEATURES), 0.0, 1.0)
    router = Router([plan], [0.0] * len(FEATURES), [1.0] * len(FEATURES))
    router.tiers = [small.name, big.name]
    auto = AutoStrategy(AutoOptions(), router=router, tiers=[small, big])
    result = asyncio.run(auto.solve(question, tiny))
    assert result.answer == "42" and not tiny.calls and len(small.calls) == 1


def test_the_shipped_ladder_router_takes_over_where_its_tiers_are_live(monkeypatch) -> None:
    question = "What is 6 x 7?"
    tiny = ScriptedBackend({question: ["Answer: 1"] * 8}, model="tiny")
    small = ScriptedBackend({question: ["Answer: 42"] * 8}, model="small")
    big = ScriptedBackend({question: ["Answer: 42"] * 8}, model="big")
    plan = PlanModel(parse_plan("cot@1"), [0.0] * len(FEATURES), 0.0, 1.0)
    ladder = Router([plan], [0.0] * len(FEATURES), [1.0] * len(FEATURES))
    ladder.tiers = [small.name, big.name]
    monkeypatch.setattr(auto_module, "shipped_routers", lambda: [ladder])
    auto = AutoStrategy(AutoOptions(), tiers=[small, big])
    result = asyncio.run(auto.solve(question, tiny))
    assert result.answer == "42" and result.model == "big"
    assert not tiny.calls and not small.calls and len(big.calls) == 1
    assert auto.router_for(auto.backends(tiny)) is ladder
    assert auto.router_for(auto.backends(small)[:1]) is auto.router  # not its tiers
    explicit = AutoStrategy(AutoOptions(), router=auto.router, tiers=[small, big])
    assert explicit.shipped == []  # an operator's router is never replaced


def test_the_top_tier_alone_gets_the_router_trained_on_it_alone(monkeypatch) -> None:
    """Serving the ladder's top model by itself, auto routes with the router trained on
    that model alone, not with the one trained on tiny models (which votes where the
    larger model should write a program)."""
    question = "What is 6 x 7?"
    tiny = ScriptedBackend({question: ["Answer: 1"] * 8}, model="tiny")
    small = ScriptedBackend({question: ["Answer: 42"] * 8}, model="small")
    big = ScriptedBackend({question: ["Answer: 42"] * 8}, model="big")
    bigger = ScriptedBackend({question: ["Answer: 42"] * 8}, model="bigger")
    ladder = Router(
        [PlanModel(parse_plan("cot@1"), [0.0] * len(FEATURES), 0.0, 1.0)],
        [0.0] * len(FEATURES),
        [1.0] * len(FEATURES),
    )
    ladder.tiers = [small.name, big.name]
    alone = Router(
        [PlanModel(parse_plan("g+2@0"), [0.0] * len(FEATURES), 0.0, 1.0)],
        [0.0] * len(FEATURES),
        [1.0] * len(FEATURES),
    )
    alone.tiers = [big.name]
    monkeypatch.setattr(auto_module, "shipped_routers", lambda: [ladder, alone])
    auto = AutoStrategy(AutoOptions())
    result = asyncio.run(auto.solve(question, big))
    assert result.answer == "42" and result.trace[0]["plan"] == "g+2@0" and len(big.calls) == 2
    assert auto.router_for(auto.backends(big)) is alone
    assert auto.router_for(auto.backends(tiny)) is auto.router  # neither was trained on it
    assert auto.router_for([*auto.backends(small), *auto.backends(big)]) is ladder
    assert auto.router_for([*auto.backends(tiny), *auto.backends(big)]) is alone
    # a live tier above the ones a shipped router knows is never left out
    assert auto.router_for([*auto.backends(big), *auto.backends(bigger)]) is auto.router


def test_the_shipped_routers_are_the_ladders_and_its_top_tiers_alone() -> None:
    routers = shipped_routers()
    assert [len(r.tiers) for r in routers] == [2, 1]
    assert same_model(routers[0].tiers[-1], "qwen2.5-coder-1.5b")
    assert same_model(routers[1].tiers[0], "embedded:qwen2.5-coder-1.5b?threads=2")
    question = "What is 6 x 7?"
    top = ScriptedBackend({question: ["Answer: 42"] * 8}, model="qwen2.5-coder-1.5b")
    auto = AutoStrategy(AutoOptions())
    assert auto.router_for(auto.backends(top)).tiers == routers[1].tiers
    # its plans are the 1.5B's own: none climbs to a tier that is not there
    assert all(p.plan.max_tier == 0 for p in routers[1].plans)


def test_the_shipped_routers_route_after_the_top_tiers_greedy_program() -> None:
    """Both shipped ladder routers read the 1.5B's greedy program before choosing (a
    whole-number result with a high mean log-probability is usually right) and reuse it;
    a live run draws it once."""
    ladder, top = shipped_routers()
    assert (ladder.probe, top.probe) == ("pot@1", "pot@0")
    assert not ladder.text and not top.text
    question = "A box holds 6 eggs. How many eggs are in 7 boxes?"
    seen: list[tuple[bool, float]] = []

    def coder(text: str, params, k: int) -> str:
        program = PROGRAM_INSTRUCTION in text
        seen.append((program, params.temperature))
        return "```python\nanswer = 6 * 7\n```" if program else "6 x 7 = 42.\nAnswer: 42"

    big = ScriptedBackend(coder, model="qwen2.5-coder-1.5b")
    result = asyncio.run(AutoStrategy(AutoOptions()).solve(question, big))
    assert result.answer == "42" and seen[0] == (True, 0.0)
    assert seen.count((True, 0.0)) == 1  # the probe, drawn once
    assert result.trace[0]["by"] == "router, after a greedy program on tier 0"
