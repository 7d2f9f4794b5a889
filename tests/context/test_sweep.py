"""Sweeps run resumably into the eval store; summaries and plots come from records."""

from __future__ import annotations

import asyncio
import re

import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.context import EstimateTokenizer
from ponder.eval.context_sweeps import NiahSpec, docs_case, niah_cases, run_cases
from ponder.eval.context_sweeps.report import write_report
from ponder.eval.context_sweeps.results import curve, grid, recovery
from ponder.eval.context_sweeps.sweep import sized_spec
from ponder.eval.store import SampleStore
from ponder.types import SamplingParams

TOK = EstimateTokenizer()
NEEDLE = re.compile(r"The special magic number for ([\w-]+) is: (\d+)\.")


def reads_the_first_half(question: str, params: SamplingParams, k: int) -> str:
    """A fake model that only sees needles in the first half of its prompt."""
    key = re.search(r"number for ([\w-]+) in the text above", question)
    for found in NEEDLE.finditer(question[: len(question) // 2]):
        if key and found.group(1) == key.group(1):
            return f"The number is {found.group(2)}."
    return "I don't know."


def test_a_grid_sweep_stores_scores_and_resumes(tmp_path) -> None:
    spec = NiahSpec(lengths=(300, 600), depths=(0.0, 1.0))
    cases = niah_cases(spec, TOK)
    store = SampleStore(tmp_path)
    backend = ScriptedBackend(reads_the_first_half)
    seen: list[int] = []
    summary = asyncio.run(
        run_cases(cases, backend, store, model="fake", progress=lambda d, t, r: seen.append(d))
    )
    assert (summary.finished, summary.failed, summary.skipped) == (4, 0, 0) and seen == [1, 2, 3, 4]
    cells = grid(store.records())
    assert {k: c.mean for k, c in cells.items()} == {
        (300, 0.0): 1.0,
        (300, 1.0): 0.0,
        (600, 0.0): 1.0,
        (600, 1.0): 0.0,
    }
    again = asyncio.run(run_cases(cases, backend, store, model="fake"))
    assert (again.skipped, again.finished) == (4, 0) and len(backend.calls) == 4


def test_a_failed_case_is_stored_and_retried(tmp_path) -> None:
    cases = niah_cases(NiahSpec(lengths=(300,), depths=(0.5,)), TOK)
    store = SampleStore(tmp_path)
    first = asyncio.run(run_cases(cases, ScriptedBackend(fail_first=1), store, model="m"))
    assert first.failed == 1 and store.records()[0]["error"]
    second = asyncio.run(run_cases(cases, ScriptedBackend(), store, model="m"))
    assert second.finished == 1 and not store.records()[0]["error"]


def test_docs_layouts_move_the_answer_and_the_report_draws_both_plots(tmp_path) -> None:
    natural = [docs_case(7, rank, "natural", tokenizer=TOK) for rank in range(1, 8)]
    ends = [docs_case(7, rank, "ends", tokenizer=TOK) for rank in range(1, 8)]
    assert [c.position for c in natural] == list(range(1, 8))
    assert [c.position for c in ends] == [1, 7, 2, 6, 3, 5, 4]
    for case in natural:
        found = re.findall(r"Document \[(\d)\][^\n]*" + case.answers[0], case.prompt)
        assert found == [str(case.position)]
    store = SampleStore(tmp_path)
    asyncio.run(run_cases(natural + ends, ScriptedBackend(), store, model="m"))
    assert curve(store.records(), "docs:order=ends", by="rank").keys() == set(range(1, 8))
    report = write_report(store.records(), tmp_path)
    assert [p.name for p in report.plots] == ["positions.png"]
    assert report.plots[0].read_bytes()[:4] == b"\x89PNG"
    assert any("retrieval rank" in t.title for t in report.tables)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("embedded:smollm2-135m", "embedded:smollm2-135m?ctx=4608&slots=1"),
        ("embedded:smollm2-135m?threads=1", "embedded:smollm2-135m?threads=1&ctx=4608&slots=1"),
        ("embedded:smollm2-135m?ctx=2048", "embedded:smollm2-135m?ctx=2048"),
        ("openai:http://h:1/v1#m", "openai:http://h:1/v1#m"),
    ],
)
def test_embedded_specs_get_a_context_that_fits(spec: str, expected: str) -> None:
    assert sized_spec(spec, 4100) == expected


def sees_only_the_ends(question: str, params: SamplingParams, k: int) -> str:
    """A fake model that reads documents 1, 2, 6 and 7 of seven, and no others."""
    town = re.search(r"Question: Who is the [\w ]+ of (\w+)\?", question)
    for found in re.finditer(r"Document \[(\d+)\]\(Title: (\w+)\) (.*)", question):
        if town and found.group(2) == town.group(1) and int(found.group(1)) in {1, 2, 6, 7}:
            return re.findall(r" is (\w+ \w+)\.", found.group(3))[0]
    return "I don't know."


def test_the_report_says_how_much_of_the_middle_loss_a_layout_recovers(tmp_path) -> None:
    cases = [docs_case(7, r, o, tokenizer=TOK) for o in ("natural", "ends") for r in range(1, 8)]
    store = SampleStore(tmp_path)
    asyncio.run(run_cases(cases, ScriptedBackend(sees_only_the_ends), store, model="m"))
    found = recovery(store.records(), "ends")
    assert found is not None and found.rank == 4
    assert (found.first, found.natural, found.reordered, found.fraction) == (1.0, 0.0, 1.0, 1.0)
    table = write_report(store.records(), tmp_path).tables[-1]
    assert table.rows == [["ends", "4", "100", "+100", "100%"]]
