"""Default completion budgets per model and prompt style; an explicit max_tokens wins."""

import asyncio

import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.budgets import CEILING, DEFAULT, STEP_BY_STEP, max_tokens_for
from ponder.strategies import make_strategy

QWEN, SMOL = STEP_BY_STEP["qwen2.5-coder-0.5b"], STEP_BY_STEP["smollm2-135m"]


def budget_used(spec: str, model: str) -> int:
    backend = ScriptedBackend(["Answer: 4"], model=model)
    asyncio.run(make_strategy(spec).solve("What is 2 + 2?", backend))
    return backend.calls[0]["params"].max_tokens


@pytest.mark.parametrize(
    ("spec", "model", "expected"),
    [
        ("sc:n=2", "qwen2.5-coder-0.5b", QWEN),
        ("sc:n=2", "/models/qwen2.5-coder-0.5b-q4.gguf", QWEN),
        ("cot", "embedded:qwen2.5-coder-1.5b?threads=2", STEP_BY_STEP["qwen2.5-coder-1.5b"]),
        ("sc:n=2,max_tokens=100", "qwen2.5-coder-0.5b", 100),
        ("sc:n=2,cot=false", "qwen2.5-coder-0.5b", DEFAULT),
        ("sc:n=2", "some-other-model", DEFAULT),
        ("bon:n=2", "smollm2-135m", SMOL),
        ("cot", "smollm2-135m", SMOL),
        ("direct", "smollm2-135m", DEFAULT),
        ("auto:plan=cot@0", "qwen2.5-coder-0.5b", QWEN),
    ],
)
def test_each_model_gets_its_default_budget(spec, model, expected):
    assert min(QWEN, SMOL) > DEFAULT  # step-by-step answers of both need more than 256
    assert budget_used(spec, model) == expected


def test_the_stated_bound_covers_every_default():
    assert make_strategy("sc:n=8").work().tokens == 8 * CEILING
    assert make_strategy("sc:n=8,max_tokens=64").work().tokens == 8 * 64
    assert make_strategy("direct").work().tokens == CEILING
    assert all(max_tokens_for(m) <= CEILING for m in ("smollm2-135m", "x", ""))


# -- budgets for any model: a cut sample is resumed up to the ceiling -----------------

REASONING = " ".join(["Tom starts with 3 apples and buys 4 more;"] * 40) + "\nAnswer: 7"
WORDS = len(REASONING.split())  # the scripted tokenizer: one token per word


def _ask(tmp_path, name: str, outputs: list[str], *extra: str) -> dict:
    import json

    from click.testing import CliRunner

    from ponder.cli.main import cli

    script = tmp_path / f"{name}.json"
    script.write_text(json.dumps(outputs))
    args = ["ask", "How many apples does Tom have?", "-m", f"scripted:{script}", "--json"]
    result = CliRunner().invoke(cli, [*args, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_model_the_table_does_not_name_is_not_cut_at_the_default(tmp_path):
    assert DEFAULT < WORDS < CEILING
    out = _ask(tmp_path, "my-llama-7b", [REASONING], "-s", "sc:n=4")
    assert out["answer"] == "7"
    assert [s["completion_tokens"] for s in out["samples"]] == [WORDS] * 4
    assert all(s["finish_reason"] == "stop" for s in out["samples"])
    assert out["usage"]["completion_tokens"] == 4 * WORDS


def test_a_resumed_sample_stops_at_the_ceiling_and_the_bound_holds(tmp_path):
    endless = " ".join(["and then"] * CEILING)
    out = _ask(tmp_path, "my-llama-7b", [endless], "-s", "sc:n=2")
    assert [s["completion_tokens"] for s in out["samples"]] == [CEILING] * 2
    assert all(s["finish_reason"] == "length" for s in out["samples"]) and out["answer"] is None
    assert out["usage"]["completion_tokens"] <= make_strategy("sc:n=2").work().tokens


def test_an_explicit_budget_is_final(tmp_path):
    asked = _ask(tmp_path, "my-llama-7b", [REASONING], "-s", "cot", "--max-tokens", "100")
    assert asked["samples"][0]["completion_tokens"] == 100 and asked["answer"] is None


async def test_a_cut_sample_that_states_its_answer_is_not_resumed():
    """Its answer is there (a final-answer marker on a finished line): more tokens would
    only add what it writes after."""

    class Said(ScriptedBackend):
        async def generate(self, messages, params, n=1):
            samples = await super().generate(messages, params, n)
            for s in samples:
                s.text = s.text.replace("Answer: 7 ", "Answer: 7\n", 1)  # keep the line
            return samples

    backend = Said(["Answer: 7 " + " ".join(["because"] * 600)], model="my-llama-7b")
    result = await make_strategy("cot").solve("How many apples does Tom have?", backend)
    assert result.answer == "7" and result.samples[0].completion_tokens == DEFAULT
    assert not any("prefix" in call for call in backend.calls)


def test_a_named_model_keeps_its_measured_budget(tmp_path):
    longer = " ".join(["Tom starts with 3 apples and buys 4 more;"] * 60) + "\nAnswer: 7"
    out = _ask(tmp_path, "smollm2-135m", [longer], "-s", "cot")
    assert out["samples"][0]["completion_tokens"] == SMOL and out["answer"] is None


async def test_a_backend_that_cannot_resume_is_asked_for_the_ceiling_at_once():
    from ponder.backends.base import BaseBackend
    from ponder.types import Sample

    class Plain(BaseBackend):
        model = "my-llama-7b"

        def __init__(self) -> None:
            self.asked: list[int] = []

        async def generate(self, messages, params, n=1):
            self.asked.append(params.max_tokens)
            return [Sample(text="Answer: 7", request_id="r") for _ in range(n)]

    backend = Plain()
    await make_strategy("cot").solve("What is 3 + 4?", backend)
    await make_strategy("sc:n=2,max_tokens=50").solve("What is 3 + 4?", backend)
    assert backend.asked == [CEILING, 50, 50]


@pytest.mark.slow
def test_the_budget_benchmark_replays_the_rule_on_stored_samples(tmp_path):
    """A run drawn past the ceiling holds samples of every fate: one the rule completes
    by resuming it, one it cuts at the ceiling before its answer (lost), one cut at the
    first budget after stating its answer (kept)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from click.testing import CliRunner

    from ponder.cli.main import cli

    outputs = {
        "q0": " ".join(["so"] * 300) + "\nAnswer: 7",
        "q1": " ".join(["so"] * 900) + "\nAnswer: 7",
        "q2": "Answer: 7\n" + " ".join(["so"] * 600),
    }
    data = tmp_path / "d.jsonl"
    data.write_text(
        "".join(json.dumps({"id": q, "question": q, "answer": 7}) + "\n" for q in outputs)
    )
    script = tmp_path / "my-llama-7b.json"
    script.write_text(json.dumps(outputs))
    run = tmp_path / "run"
    args = ["eval", "run", "--data", str(data), "-m", f"scripted:{script}", "--out", str(run)]
    result = CliRunner().invoke(cli, [*args, "-s", "sample:n=1,max_tokens=1024"])
    assert result.exit_code == 0, result.output
    root = Path(__file__).parents[1]
    shown = subprocess.run(
        [sys.executable, str(root / "benchmarks" / "budget.py"), "--rule", str(run)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    greedy = next(line.split() for line in shown.splitlines() if " greedy " in line)
    # model suite draw n first ceil cut lost c.lost resumed tok/s at-once
    assert greedy[3:10] == ["3", str(DEFAULT), str(CEILING), "66.7%", "33.3%", "33.3%", "66.7%"]
