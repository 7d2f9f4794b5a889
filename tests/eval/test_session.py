"""``ponder.eval.session``: the run orchestration ``eval run`` and ``distill generate``
share, in the library; each strategy spec parsed once and checked once per run."""

import json
from collections import Counter

import pytest
from click.testing import CliRunner

import ponder.eval.runner
import ponder.strategies
from ponder.cli.main import cli
from ponder.errors import ConfigError
from ponder.eval.session import select_items
from ponder.eval.store import Record, SampleStore


def test_eval_run_parses_each_spec_once_and_checks_them_once(tmp_path, monkeypatch):
    parsed: Counter[str] = Counter()
    checks: list[list[str]] = []
    parse, check = ponder.eval.runner.parse_strategy_spec, ponder.eval.runner.check_specs

    def counting_parse(spec):
        parsed[spec] += 1
        return parse(spec)

    def counting_check(specs):
        checks.append(list(specs))
        return check(specs)

    for module in (ponder.eval.runner, ponder.strategies):
        monkeypatch.setattr(module, "parse_strategy_spec", counting_parse)
    monkeypatch.setattr(ponder.eval.runner, "check_specs", counting_check)
    script = tmp_path / "s.json"
    script.write_text(json.dumps(["Answer: 3"]))
    specs = ["sc:n=2,stop=none", "sample:n=2"]
    args = ["eval", "run", "--suite", "arith", "--levels", "1", "--per-level", "3"]
    args += ["-m", f"scripted:{script}", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(cli, [*args, *(a for s in specs for a in ("-s", s))])
    assert result.exit_code == 0, result.output
    assert checks == [specs]
    assert {s: parsed[s] for s in specs} == {s: 1 for s in specs}
    records = [Record.from_dict(r) for r in SampleStore(tmp_path / "run").records()]
    assert sorted(r.strategy for r in records) == sorted(specs * 3)
    assert all(not r.error for r in records)


@pytest.mark.parametrize(
    ("suite", "data", "levels", "message"),
    [
        (None, None, None, "exactly one of"),
        ("arith", "x.jsonl", None, "exactly one of"),
        (None, "x.jsonl", "1", "--levels applies to --suite"),
        ("arith", None, "1,x", "comma-separated integers"),
    ],
)
def test_select_items_refuses_what_it_cannot_choose(suite, data, levels, message):
    with pytest.raises(ConfigError, match=message):
        select_items(suite, data, levels=levels)


def test_select_items_takes_a_suite_per_level_or_the_first_of_a_dataset(tmp_path):
    assert len(select_items("arith", None, per_level=2, levels="1,2")) == 4
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}"}) + "\n" for i in range(5)))
    assert [i.question for i in select_items(None, str(data), 2, require_answer=False)] == [
        "q0",
        "q1",
    ]
