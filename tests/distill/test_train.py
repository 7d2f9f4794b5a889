"""Fine-tuning on a tiny llama (SmolLM2's tokenizer, random 2-layer weights): the loss
falls, only completion tokens are trained on, and an interrupted run resumes exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from ponder import models  # noqa: E402
from ponder.distill.batches import IGNORE, encode, micro_batches, plan_steps  # noqa: E402
from ponder.distill.chat import render_prompt  # noqa: E402
from ponder.distill.train import TrainOptions, lr_at, train  # noqa: E402
from ponder.errors import ConfigError  # noqa: E402

QUESTIONS = [(f"What is {a} + {b}?", f"{a} + {b} = {a + b}\nAnswer: {a + b}") for a, b in
             [(1, 2), (3, 4), (5, 6), (2, 7), (8, 1), (4, 4), (6, 3), (9, 9)]]  # fmt: skip


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer llama with the embedded model's tokenizer, saved as a transformers folder."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    gguf = models.resolve(models.DEFAULT_MODEL)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
        max_position_embeddings=256,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def rows_file(tmp_path: Path) -> Path:
    file = tmp_path / "rows.jsonl"
    lines = []
    for k, (question, answer) in enumerate(QUESTIONS):
        messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
        lines.append(json.dumps({"messages": messages, "meta": {"id": f"q{k}"}}))
    file.write_text("\n".join(lines) + "\n")
    return file


def options(base: Path, **changes: object) -> TrainOptions:
    settings: dict[str, object] = dict(
        base=str(base), epochs=6, batch_rows=4, lr=2e-2, val_fraction=0.0, save_every=2,
        micro_tokens=64, warmup=0.0,
    )  # fmt: skip
    settings.update(changes)
    return TrainOptions(**settings)  # type: ignore[arg-type]


def test_labels_cover_the_completion_and_its_end_marker_only(tiny_base: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    row = {"messages": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Yo"}]}
    encoded = encode(row, tokenizer)
    prompt = tokenizer.encode(render_prompt(row["messages"][:1]), add_special_tokens=False)
    assert encoded.ids[: len(prompt)] == prompt
    assert encoded.labels[: len(prompt)] == [IGNORE] * len(prompt)
    trained = tokenizer.decode([t for t in encoded.labels if t != IGNORE])
    assert trained == "Yo<|im_end|>"


def test_steps_and_micro_batches_are_a_deterministic_partition() -> None:
    steps = plan_steps(10, epochs=2, batch_rows=4, seed=3)
    assert steps == plan_steps(10, epochs=2, batch_rows=4, seed=3)
    assert [len(s) for s in steps] == [4, 4, 2, 4, 4, 2]
    assert sorted(i for s in steps[:3] for i in s) == list(range(10))
    assert lr_at(0, 100, 1.0, 0.1) == pytest.approx(0.1)
    assert lr_at(99, 100, 1.0, 0.1) == pytest.approx(0.1, abs=0.01)


def test_training_lowers_the_loss_and_writes_its_artefacts(tiny_base: Path, rows_file: Path,
                                                            tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "run"
    report = train(rows_file, out, options(tiny_base, method="full", lr=1e-2))
    assert report.steps == 12 and report.train_rows == 8
    first, last = sum(report.losses[:2]) / 2, sum(report.losses[-2:]) / 2
    assert last < 0.8 * first, report.losses
    assert (out / "model" / "config.json").exists()
    summary = json.loads((out / "train.json").read_text())
    assert summary["steps"] == 12 and summary["target_tokens"] > 0
    assert len((out / "losses.jsonl").read_text().splitlines()) == 12


def test_an_interrupted_run_resumes_to_the_same_weights(tiny_base: Path, rows_file: Path,
                                                        tmp_path: Path) -> None:  # fmt: skip
    whole = train(rows_file, tmp_path / "whole", options(tiny_base, epochs=4))

    def stop_at_5(step: int, total: int, loss: float) -> None:
        if step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(rows_file, tmp_path / "cut", options(tiny_base, epochs=4), stop_at_5)
    resumed = train(rows_file, tmp_path / "cut", options(tiny_base, epochs=4))
    assert resumed.resumed_from == 4  # the last checkpoint before the interruption
    assert resumed.losses == pytest.approx(whole.losses, rel=1e-4)
    from safetensors.torch import load_file

    a = load_file(tmp_path / "whole" / "adapter" / "adapter_model.safetensors")
    b = load_file(tmp_path / "cut" / "adapter" / "adapter_model.safetensors")
    assert any(float(v.abs().max()) > 0 for k, v in a.items() if "lora_B" in k)  # it learned
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    with pytest.raises(ConfigError, match="other options"):
        train(rows_file, tmp_path / "cut", options(tiny_base, epochs=5))


def test_micro_batches_respect_the_token_budget() -> None:
    from ponder.distill.batches import Encoded

    rows = [Encoded(list(range(n)), list(range(n)), str(n)) for n in (5, 30, 8, 31, 2)]
    batches = micro_batches(rows, range(5), micro_tokens=32)
    assert sorted(i for b in batches for i in b) == [0, 1, 2, 3, 4]
    for batch in batches:
        assert len(batch) == 1 or max(len(rows[i].ids) for i in batch) * len(batch) <= 32
