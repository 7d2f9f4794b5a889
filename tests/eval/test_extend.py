"""Extending stored sampling runs to a larger budget by continuing cut-off samples."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ponder.backends.base import Continues
from ponder.backends.scripted import ScriptedBackend
from ponder.cli.main import cli
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.extend import extend_records, merge, with_max_tokens
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore, read_records
from ponder.types import Message, Sample, SamplingParams

LONG = "First we add three and four which makes seven then we double it and Answer: 14"
SHORT = "Answer: 14"
ITEMS = [Item("q1", "What is (3 + 4) * 2?", "14", kind="number")]


def _backend() -> ScriptedBackend:
    return ScriptedBackend({"(3 + 4) * 2": [LONG, SHORT, LONG]})


def _stored(tmp_path: Path, max_tokens: int, model: str = "scripted:s") -> list[dict[str, Any]]:
    store = SampleStore(tmp_path / f"run{max_tokens}")
    spec = f"sample:n=4,max_tokens={max_tokens}"
    asyncio.run(run_eval(ITEMS, _backend(), [spec], store, model=model))
    return store.records()


async def test_scripted_continuation_equals_the_full_draw() -> None:
    backend = _backend()
    assert isinstance(backend, Continues)
    messages = [Message("user", "What is (3 + 4) * 2?")]
    cut = (await backend.generate(messages, SamplingParams(max_tokens=5)))[0]
    more = await backend.continue_text(messages, cut.text, SamplingParams(max_tokens=50))
    assert cut.truncated and cut.text + more.text == LONG
    assert more.completion_tokens == len(LONG.split()) - 5 and more.finish_reason == "stop"
    capped = await backend.continue_text(messages, cut.text, SamplingParams(max_tokens=3))
    assert capped.truncated and capped.completion_tokens == 3


def test_extension_matches_a_run_drawn_at_the_large_budget(tmp_path: Path) -> None:
    short = _stored(tmp_path, 6)
    assert sum(s["finish_reason"] == "length" for s in short[0]["samples"]) == 3
    assert short[0]["prediction"] is None  # the cut-off greedy sample abstains
    out = SampleStore(tmp_path / "ext")
    summary = asyncio.run(extend_records(short, _backend(), 64, out, model="scripted:s"))
    assert (summary.extended, summary.continued, summary.still_truncated) == (1, 3, 0)
    extended = out.records()[0]
    direct = _stored(tmp_path, 64)[0]
    assert extended["strategy"] == direct["strategy"] == "sample:n=4,max_tokens=64"
    assert [s["text"] for s in extended["samples"]] == [s["text"] for s in direct["samples"]]
    assert [s["answer"] for s in extended["samples"]] == ["14"] * 5
    assert extended["prediction"] == "14" and extended["correct"] is True
    assert extended["usage"]["completion_tokens"] == direct["usage"]["completion_tokens"]
    assert extended["usage"]["truncated"] == 0
    assert extended["extended"]["from"] == "sample:n=4,max_tokens=6"


def test_extension_resumes_and_continues_only_cut_samples(tmp_path: Path) -> None:
    short = _stored(tmp_path, 6)
    backend = _backend()
    out = SampleStore(tmp_path / "ext")
    asyncio.run(extend_records(short, backend, 10, out, model="scripted:s"))
    prefixes = [c["prefix"] for c in backend.calls if "prefix" in c]
    assert len(prefixes) == 3 and all(len(p.split()) == 6 for p in prefixes)
    assert out.records()[0]["usage"]["truncated"] == 3  # 10 tokens still cut them
    again = asyncio.run(extend_records(short, backend, 10, out, model="scripted:s"))
    assert (again.skipped, again.extended, again.continued) == (1, 0, 0)


def test_extension_refuses_what_it_cannot_carry(tmp_path: Path) -> None:
    short = _stored(tmp_path, 6)
    out = SampleStore(tmp_path / "ext")
    with pytest.raises(ConfigError, match="not scripted:other"):
        asyncio.run(extend_records(short, _backend(), 64, out, model="scripted:other"))
    with pytest.raises(ConfigError, match="would not extend"):
        asyncio.run(extend_records(short, _backend(), 4, out, model="scripted:s"))
    live = [{**short[0], "strategy": "sc:n=4"}]
    with pytest.raises(ConfigError, match="only sampling-mode records"):
        asyncio.run(extend_records(live, _backend(), 64, out, model="scripted:s"))


def test_a_backend_that_cannot_continue_is_refused(tmp_path: Path) -> None:
    from ponder.backends.scripted import ReplayBackend

    with pytest.raises(ConfigError, match="cannot continue"):
        asyncio.run(extend_records([], ReplayBackend({}), 64, SampleStore(tmp_path / "x")))


def test_merge_weights_a_stored_mean_and_extends_a_full_list() -> None:
    mean = Sample("a b", "r", completion_tokens=2, token_logprobs=[-1.0], finish_reason="length")
    more = Sample(" c", "s", completion_tokens=1, token_logprobs=[-4.0])
    merged = merge(mean, more)
    assert merged.token_logprobs == [-2.0] and merged.completion_tokens == 3
    assert merged.text == "a b c" and merged.finish_reason == "stop"
    full = Sample("a b", "r", completion_tokens=2, token_logprobs=[-1.0, -3.0])
    assert merge(full, more).token_logprobs == [-1.0, -3.0, -4.0]


def test_with_max_tokens_sets_or_adds_the_option() -> None:
    assert with_max_tokens("sample:n=16,max_tokens=96", 384) == "sample:n=16,max_tokens=384"
    assert with_max_tokens("sample:n=8", 768) == "sample:n=8,max_tokens=768"


def test_cli_extends_an_export(tmp_path: Path) -> None:
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"(3 + 4) * 2": [LONG, SHORT, LONG]}), encoding="utf-8")
    short = _stored(tmp_path, 6, model=f"scripted:{script}")
    export = tmp_path / "short.jsonl"
    export.write_text("".join(json.dumps(r) + "\n" for r in short), encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["eval", "extend", str(export), "--max-tokens", "64", "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 0, result.output
    assert "3 samples continued" in result.output
    assert read_records(tmp_path / "o")[0]["prediction"] == "14"


def test_drawn_token_ids_are_passed_on_and_a_resplit_join_is_counted(tmp_path: Path) -> None:
    short = _stored(tmp_path, 6)
    for sample in short[0]["samples"]:
        sample["token_ids"] = list(range(sample["completion_tokens"]))
    short[0]["samples"][0]["completion_tokens"] = 5  # the text counts 6: another split
    backend = _backend()
    out = SampleStore(tmp_path / "ext")
    summary = asyncio.run(extend_records(short, backend, 64, out, model="scripted:s"))
    assert summary.resplit == 1 and out.records()[0]["extended"]["resplit"] == 1
    assert [c["prefix_ids"] for c in backend.calls if "prefix" in c][1] == list(range(6))
    assert out.records()[0]["samples"][0]["token_ids"] is None  # the fake gives no ids


def test_llama_cpp_logprobs_give_token_ids() -> None:
    from ponder.backends.wire import samples_from_response

    entry = {"id": 33, "token": "1", "logprob": -0.5}
    choice = {"message": {"content": "1"}, "logprobs": {"content": [entry, entry]}}
    sample = samples_from_response({"choices": [choice]}, SamplingParams(), 0.0, "m")[0]
    assert sample.token_ids == [33, 33]
    openai = {"token": "1", "logprob": -0.5}
    choice = {"message": {"content": "1"}, "logprobs": {"content": [openai]}}
    assert (
        samples_from_response({"choices": [choice]}, SamplingParams(), 0.0, "m")[0].token_ids
        is None
    )


def test_a_raw_completions_end_token_is_not_counted() -> None:
    from ponder.backends.embedded import _drop_end_token

    tokens = [{"id": 30, "token": ".", "logprob": -0.1}, {"id": 2, "token": "", "logprob": -0.2}]
    data = {"choices": [{"text": ".", "finish_reason": "stop", "logprobs": {"content": tokens}}]}
    _drop_end_token(data)
    assert [t["id"] for t in data["choices"][0]["logprobs"]["content"]] == [30]
    cut = [{"id": 30, "token": ".", "logprob": -0.1}]
    data = {"choices": [{"text": ".", "finish_reason": "length", "logprobs": {"content": cut}}]}
    _drop_end_token(data)
    assert len(data["choices"][0]["logprobs"]["content"]) == 1
