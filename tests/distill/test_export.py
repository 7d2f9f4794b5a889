"""The loop back into the engine, on the real SmolLM2: LoRA-train two steps, export a
GGUF, and the embedded backend (llama.cpp) greedy-decodes what transformers does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("gguf")

from ponder import models  # noqa: E402
from ponder.backends import load_backend  # noqa: E402
from ponder.cli.main import cli  # noqa: E402
from ponder.distill.base import load_base  # noqa: E402
from ponder.distill.chat import render_prompt  # noqa: E402
from ponder.distill.export import gguf_name, merged_weights, permute_rotary  # noqa: E402
from ponder.distill.train import TrainOptions, train  # noqa: E402
from ponder.types import Message, SamplingParams  # noqa: E402

pytestmark = pytest.mark.model
PROMPTS = ["What is 12 + 7? Think step by step.", "Name three colours."]
SAME_TOKENS = 12


def test_names_and_rotary_permutation() -> None:
    assert gguf_name("model.layers.3.self_attn.q_proj.weight") == "blk.3.attn_q.weight"
    assert gguf_name("model.layers.0.mlp.down_proj.weight") == "blk.0.ffn_down.weight"
    assert gguf_name("model.embed_tokens.weight") == "token_embd.weight"
    assert gguf_name("model.layers.0.self_attn.rotary_emb.inv_freq") is None
    import numpy as np

    weight = np.arange(8 * 3).reshape(8, 3)  # 2 heads of 4 rows: halves interleave per head
    rows = permute_rotary(weight, 2)[:, 0] // 3
    assert rows.tolist() == [0, 2, 1, 3, 4, 6, 5, 7]


def test_train_export_register_and_serve_the_same_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = tmp_path / "rows.jsonl"
    pairs = [("What is 2 + 2?", "2 + 2 = 4\nAnswer: 4"), ("What is 3 + 5?", "3 + 5 = 8\nAnswer: 8")]
    rows.write_text(
        "".join(
            json.dumps(
                {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}
            )
            + "\n"
            for q, a in pairs
        )
    )
    run = tmp_path / "run"
    options = TrainOptions(epochs=2, batch_rows=2, lr=5e-3, val_fraction=0.0, threads=2)
    report = train(rows, run, options)
    assert report.steps == 2 and (run / "adapter").is_dir()

    monkeypatch.setattr(models, "_local_index", lambda: tmp_path / "local.json")
    gguf = tmp_path / "student.gguf"
    result = CliRunner().invoke(
        cli, ["distill", "export", str(run), "--to", str(gguf), "--name", "student-test"]
    )
    assert result.exit_code == 0, result.output
    assert "registered" in result.output and gguf.stat().st_size < 160 * 2**20  # q8_0
    listing = CliRunner().invoke(cli, ["models", "list", "--json"])
    assert "student-test" in listing.output

    weights, base_file, _ = merged_weights(run)
    base = load_base(str(base_file), base_file)
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    base.model.load_state_dict(state)
    served = load_backend("embedded:student-test?threads=2")
    try:
        for prompt in PROMPTS:
            ids = base.tokenizer.encode(
                render_prompt([{"role": "user", "content": prompt}]), add_special_tokens=False
            )
            out = base.model.generate(
                torch.tensor([ids]), max_new_tokens=SAME_TOKENS, do_sample=False
            )
            expected = base.tokenizer.decode(out[0][len(ids) :], skip_special_tokens=True)
            params = SamplingParams(temperature=0.0, max_tokens=SAME_TOKENS)
            (sample,) = asyncio.run(served.generate([Message("user", prompt)], params, 1))
            assert sample.text.strip() == expected.strip(), prompt
    finally:
        asyncio.run(served.aclose())
    asked = CliRunner().invoke(
        cli, ["ask", "-m", "embedded:student-test?threads=2", "-s", "direct", "What is 2 + 2?"]
    )
    assert asked.exit_code == 0, asked.output
