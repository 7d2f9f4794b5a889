import asyncio
import json

import pytest
from click.testing import CliRunner

from ponder.cli.main import cli
from ponder.errors import DataError
from ponder.eval.runner import run_eval
from ponder.eval.store import SampleStore
from ponder.eval.synthetic import synthetic_items, two_tier_backends
from ponder.report import build_report, live_points, write_report


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    items = synthetic_items(per_level=4)
    small, large = two_tier_backends(items)
    path = tmp_path_factory.mktemp("run")
    store = SampleStore(path)
    for backend in (small, large):
        asyncio.run(run_eval(items, backend, ["sample:n=8"], store, model=backend.name))
    asyncio.run(run_eval(items[:4], small, ["direct"], store, model=small.name))
    return path


def test_report_has_plot_tables_router_and_headline(run_dir, tmp_path):
    report = build_report(run_dir, reps=4, folds=2)
    assert report.router is not None and report.headline is not None
    assert report.router.extra["folds"] == 2 and sum(report.router.extra["plans"].values()) == 16
    sentence = report.headline.sentence
    assert (
        sentence.startswith("auto reaches ")
        and "% of the accuracy of the best fixed strategy" in sentence
    )
    paths = write_report(report, tmp_path / "out")
    md = paths["md"].read_text()
    assert sentence in md and "| strategy | accuracy % |" in md and "syn:4" in md
    assert "direct [live]@small" in md
    assert paths["png"].read_bytes()[:4] == b"\x89PNG"
    assert "<table>" in paths["html"].read_text()
    data = json.loads(paths["json"].read_text())
    assert data["router"]["name"] == "auto"


def test_live_points_summarise_live_runs():
    records = [
        {
            "strategy": "sc:n=2",
            "model": "m",
            "model_name": "m",
            "active_params": None,
            "error": None,
            "correct": c,
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "samples": 2},
        }
        for c in (True, False)
    ]
    [point] = live_points(records)
    assert point.accuracy == 0.5 and point.tokens == 15 and point.samples == 2


def test_report_cli_and_empty_run(run_dir, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "report",
            str(run_dir),
            "--reps",
            "3",
            "--folds",
            "2",
            "--out",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "auto reaches" in result.output and (tmp_path / "r" / "report.html").exists()
    replayed = CliRunner().invoke(cli, ["eval", "replay", str(run_dir), "--reps", "2", "--json"])
    assert replayed.exit_code == 0
    assert {p["name"] for p in json.loads(replayed.output)} >= {"cot@small", "sc:n=8@large"}
    with pytest.raises(DataError, match="holds no"):
        build_report(tmp_path)


def test_live_runs_are_on_the_accuracy_vs_cost_plot(run_dir, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    drawn = []
    monkeypatch.setattr(plt, "close", drawn.append)
    report = build_report(run_dir, reps=2, folds=2)
    assert [p.name for p in report.live] == ["direct [live]@small"]
    write_report(report, tmp_path / "out")
    [figure] = drawn
    labels = " ".join(t.get_text() for ax in figure.axes for t in ax.texts)
    assert "direct [live]" in labels
    legend = [t.get_text() for ax in figure.axes for t in ax.get_legend().get_texts()]
    assert "run live (as measured)" in legend


def test_live_search_labels_keep_the_options_that_tell_them_apart():
    from ponder.eval.plots import short_label

    name = "beam:n=4,width=2,depth=8,step_tokens=64,scorer=calc,budget=445 [live]@smollm2-135m"
    assert short_label(name) == "beam n=4,scorer=calc,budget=445 [live]"
    assert short_label("sc:n=8@smollm2-135m") == "sc:n=8"
    assert short_label("direct [live]@small") == "direct [live]"
