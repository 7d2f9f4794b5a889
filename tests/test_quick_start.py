"""The quick start: ``ponder ask QUESTION`` votes on the 0.5B model and asks
the next one only when the votes split, loading (and fetching) it only then, and says
what each tier spent and why. Scripted stand-ins take the local models' place."""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ponder import backends, models
from ponder.backends import load_backend
from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.errors import ConfigError
from ponder.routing.explain import explain
from ponder.strategies import AutoStrategy, make_strategy
from ponder.strategies.auto import QUICK_PLAN, QUICK_TIERS, quick_spec
from ponder.strategies.tiers import Tier

TOM = "Tom has 3 apples and buys 4 more. How many apples does he have?"
SPLIT = ["Answer: 7", "Answer: 12", "Answer: 7", "Answer: 5", "Answer: 1"]  # greedy, 4 votes
AGREE = ["Answer: 7"]
SMALL, LARGE = QUICK_TIERS


class FakeLadder:
    """Scripted stand-ins for the local models behind ``embedded:NAME``, recording what
    is loaded and fetched (a fresh machine: nothing is downloaded)."""

    def __init__(self, scripts: dict[str, list[str]]) -> None:
        self.scripts = scripts
        self.loaded: list[str] = []
        self.fetched: list[str] = []

    def backend(self, target: str, options: dict[str, str]) -> ScriptedBackend:
        name = target or models.DEFAULT_MODEL
        self.loaded.append(name)
        if name not in self.scripts:
            raise ConfigError(f"{name} must not be loaded in this test")
        return ScriptedBackend({TOM: self.scripts[name]}, model=name, active_params=1e8)

    def pull(self, name: str, progress: Any = None, force: bool = False) -> Path:
        assert progress is not None  # the user sees the download
        self.fetched.append(name)
        return Path("/nonexistent") / name


@pytest.fixture
def ladder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Install a FakeLadder as the embedded backend, on an empty model cache."""
    monkeypatch.setenv("PONDER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(backends, "_CACHE", OrderedDict())  # no backend from other tests

    def install(scripts: dict[str, list[str]]) -> FakeLadder:
        fake = FakeLadder(scripts)
        monkeypatch.setitem(backends._REGISTRY._given, "embedded", fake.backend)
        monkeypatch.setattr(models, "pull", fake.pull)
        return fake

    return install


def ask(*args: str) -> Any:
    return CliRunner().invoke(cli, ["ask", TOM, *args])


def test_the_default_escalates_when_the_cheap_tier_splits(ladder) -> None:
    fake = ladder({SMALL: SPLIT, LARGE: AGREE})
    result = ask("--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "7" and data["model"] == LARGE and data["strategy"] == "auto"
    assert data["trace"][0]["plan"] == QUICK_PLAN
    assert [t["tier"] for t in data["trace"][1:]] == [0, 1]
    assert data["usage"]["samples"] == 3 + 3  # greedy + 2 on the 0.5B, greedy + 2 above
    assert data["explanation"] == (
        f"{SMALL}: 3 votes split 2/1, 7 leads (share 0.67 < 1.00) -> "
        f"escalated to {LARGE}: 3 of 3 agree on 7"
    )
    assert fake.loaded == [SMALL, LARGE] and fake.fetched == [SMALL, LARGE]
    assert f"fetching {LARGE} (first use)" in result.stderr


def test_the_default_stops_on_the_cheap_tier_when_it_agrees(ladder) -> None:
    fake = ladder({SMALL: AGREE})  # loading the larger tier would fail
    result = ask("--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["answer"] == "7" and data["model"] == SMALL
    assert data["usage"]["samples"] == 3
    assert data["explanation"] == (
        f"{SMALL}: 3 of 3 agree on 7 (share 1.00 >= 1.00): settled, {LARGE} not used"
    )
    assert fake.loaded == [SMALL] and fake.fetched == [SMALL]  # nothing more
    assert LARGE not in result.stderr


def test_the_human_output_says_what_each_tier_spent_and_why(ladder) -> None:
    ladder({SMALL: SPLIT, LARGE: AGREE})
    result = ask()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "7"
    assert f"{SMALL}: 3 votes split 2/1" in result.stdout
    assert f"escalated to {LARGE}: 3 of 3 agree on 7" in result.stdout
    assert f"strategy auto on {LARGE}" in result.stdout


def test_threads_reach_every_default_tier(ladder) -> None:
    fake = ladder({SMALL: SPLIT, LARGE: AGREE})
    result = ask("--threads", "1", "--json")
    assert result.exit_code == 0, result.output
    assert fake.loaded == [SMALL, LARGE]  # the 0.5B tier is the solving backend itself
    assert quick_spec(1).count("?threads=1") == len(QUICK_TIERS)


@pytest.mark.parametrize("extra", [["--n", "3"], ["--early-stop", "esc"]])
def test_vote_options_mean_sc_on_the_default_model(ladder, extra: list[str]) -> None:
    fake = ladder({models.DEFAULT_MODEL: AGREE})
    result = ask(*extra, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["strategy"] == "sc" and fake.loaded == [models.DEFAULT_MODEL]


def test_a_model_of_ones_own_gets_sc(tmp_path: Path) -> None:
    script = tmp_path / "mine.json"
    script.write_text(json.dumps({TOM: AGREE}))
    result = ask("-m", f"scripted:{script}", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategy"] == "sc"


def test_a_tier_that_would_fail_to_load_is_never_touched_when_tier_0_settles(
    tmp_path: Path,
) -> None:
    small = tmp_path / "small.json"
    missing = tmp_path / "missing.json"  # never written: loading it fails
    spec = f"auto:tiers=scripted:{small}+scripted:{missing},plan={QUICK_PLAN}"
    args = ["-m", f"scripted:{small}", "-s", spec, "--json"]
    small.write_text(json.dumps({TOM: AGREE}))
    settled = ask(*args)
    assert settled.exit_code == 0, settled.output
    assert json.loads(settled.stdout)["model"] == "small"
    small.write_text(json.dumps({TOM: SPLIT}))
    backends._CACHE.pop(f"scripted:{small}", None)  # the new script
    escalated = ask(*args)
    assert escalated.exit_code != 0 and "file not found" in escalated.output
    assert "Traceback" not in escalated.output


def test_spec_tiers_load_on_first_use_and_once() -> None:
    loads: list[str] = []
    small = ScriptedBackend({TOM: SPLIT}, model="small")
    large = ScriptedBackend({TOM: AGREE}, model="large")

    def load(spec: str) -> ScriptedBackend:
        loads.append(spec)
        return large

    auto = make_strategy(f"auto:tiers=scripted:large.json,plan={QUICK_PLAN}")
    assert isinstance(auto, AutoStrategy)
    lazy = auto.with_loader(load)
    assert loads == []  # building loads nothing
    for _ in range(2):
        result = asyncio.run(lazy.solve(TOM, small))
        assert result.answer == "7" and result.model == "large"
    assert loads == ["scripted:large.json"]
    assert result.trace[0]["tiers"] == ["scripted:small", "scripted:large"]


def test_an_async_loader_is_awaited_once() -> None:
    """A server's model table loads asynchronously; a tier takes that as well."""
    loads: list[str] = []
    large = ScriptedBackend({TOM: AGREE}, model="large")

    async def load(spec: str) -> ScriptedBackend:
        loads.append(spec)
        return large

    tier = Tier("openai:http://h/v1#large", load)
    assert tier.label == "large" and tier.current is None
    assert asyncio.run(tier.backend()) is large is asyncio.run(tier.backend())
    assert loads == ["openai:http://h/v1#large"] and tier.label == "large"


def test_a_first_tier_stands_for_the_solving_backend_without_loading() -> None:
    backend = load_backend("scripted:")
    tier = Tier("scripted:", load=lambda spec: pytest.fail(f"loaded {spec}"))
    assert tier.stands_for(backend) and not tier.loaded
    named = ScriptedBackend(model="m")
    named.name = "embedded:m"
    assert Tier("embedded:m?threads=2").stands_for(named)
    assert Tier("m").stands_for(named) and Tier("m").label == "m"
    assert not Tier("embedded:other").stands_for(named)


def _stage(tier: int, votes: dict[str, float], pooled: int, answer: str | None, **kw: Any):
    total = max(pooled, 1)
    share = votes.get(answer, 0.0) / total if answer is not None else 0.0
    agree, settled = kw.get("agree", 0.75), kw.get("settled")
    settled = settled if settled is not None else answer is not None and share >= agree
    return {"step": "stage", "tier": tier, "votes": votes, "pooled": pooled, "answer": answer,
            "share": share, "agree": agree, "settled": settled, **kw}  # fmt: skip


def test_explain_reads_every_ending_of_a_cascade() -> None:
    route = {"step": "route", "plan": "g+4@0 ~0.75 > g+2@1", "models": ["s", "l"]}
    cut = _stage(0, {"3": 1.0}, 5, "3")
    last = _stage(1, {"7": 2.0, "8": 1.0}, 3, "7", agree=1.0)
    assert explain([route, cut, last]) == (
        "s: 5 samples, 1 answers 3, 4 without an answer (share 0.20 < 0.75) -> "
        "escalated to l: 3 votes split 2/1, 7 leads (share 0.67 < 1.00, the plan's last "
        "stage: its leader stands)"
    )
    none = _stage(0, {}, 2, None)
    assert explain([route, none, _stage(1, {"7": 1.0}, 1, "7", agree=1.0)]) == (
        "s: 2 samples, none with an answer (share 0.00 < 0.75) -> escalated to l: 1 sample: 7"
    )
    same = {"step": "route", "plan": "cot@0 > 8@0", "models": ["s"]}
    more = [_stage(0, {}, 1, None, agree=1.0), _stage(0, {"4": 8.0}, 9, "4", agree=1.0)]
    assert "-> more samples: 8 of 9 agree on 4" in (explain([same, *more]) or "")
    calc = _stage(1, {"5": 2.0, "6": 1.0}, 3, "6", pick="calc", agree=0.3)
    assert "the calc verifier picks 6" in (explain([route, cut, calc]) or "")
    assert explain([{"step": "wave", "n": 8}]) is None
