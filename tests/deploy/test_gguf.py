"""Parameter counts read from a GGUF file's header (no ``gguf`` package)."""

from __future__ import annotations

import struct

import pytest

from ponder import cost, models
from ponder.deploy.gguf import gguf_params, read_header
from ponder.errors import ArchitectureError
from tests.gguf_writer import write_gguf

VOCAB, HIDDEN, FF = 1000, 64, 128
LAYER = {
    "blk.0.attn_norm.weight": (HIDDEN,),
    "blk.0.attn_q.weight": (HIDDEN, HIDDEN),
    "blk.0.ffn_down.weight": (FF, HIDDEN),
}
LAYER_SIZE = HIDDEN + HIDDEN * HIDDEN + FF * HIDDEN


def test_a_tied_model_counts_every_tensor(tmp_path):
    path = write_gguf(
        tmp_path / "tied.gguf",
        {"token_embd.weight": (HIDDEN, VOCAB), **LAYER, "output_norm.weight": (HIDDEN,)},
        {"tokenizer.ggml.tokens": ["a", "b", "c"], "llama.block_count": 1, "x.f": 0.5},
    )
    header = read_header(path)
    assert header.version == 3 and header.metadata["llama.block_count"] == 1
    assert [t.name for t in header.tensors][:2] == ["token_embd.weight", "blk.0.attn_norm.weight"]
    assert gguf_params(path).total == VOCAB * HIDDEN + LAYER_SIZE + HIDDEN


def test_an_untied_head_counts_the_embedding_once(tmp_path):
    """With ``output.weight`` stored beside ``token_embd.weight`` the input embedding is a
    lookup (no multiply), as the registry's figures and the planner's ``active_matmul``
    count it: the matrix is counted once, as the head."""
    tensors = {"token_embd.weight": (HIDDEN, VOCAB), **LAYER, "output.weight": (HIDDEN, VOCAB)}
    counted = gguf_params(write_gguf(tmp_path / "untied.gguf", tensors))
    assert counted.total == counted.active == VOCAB * HIDDEN + LAYER_SIZE


def test_moe_experts_count_in_full_but_only_the_visited_ones_are_active(tmp_path):
    experts = {
        "blk.0.ffn_up_exps.weight": (HIDDEN, FF, 8),
        "blk.0.ffn_gate_inp.weight": (HIDDEN, 8),
    }
    meta = {"llama.expert_count": 8, "llama.expert_used_count": 2}
    counted = gguf_params(write_gguf(tmp_path / "moe.gguf", {**LAYER, **experts}, meta))
    assert counted.total == LAYER_SIZE + HIDDEN * FF * 8 + HIDDEN * 8
    assert counted.active == LAYER_SIZE + HIDDEN * FF * 2 + HIDDEN * 8


@pytest.mark.parametrize(
    "content",
    [b"", b"GGML" + bytes(20), b"GGUF" + struct.pack("<IQQ", 3, 1 << 40, 0), b"GGUF\x03"],
)
def test_a_file_that_is_not_gguf_says_so(tmp_path, content):
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(ArchitectureError, match=r"bad\.gguf is not a readable GGUF"):
        read_header(path)


def test_a_gguf_path_gets_its_parameters_for_costs(tmp_path):
    path = write_gguf(tmp_path / "m.gguf", {"token_embd.weight": (HIDDEN, VOCAB), **LAYER})
    expected = VOCAB * HIDDEN + LAYER_SIZE
    assert cost.active_params_for(str(path)) == expected
    assert cost.active_params_for(f"embedded:{path}") == expected
    assert cost.active_params_for(str(tmp_path / "missing.gguf")) is None


def test_served_model_names_go_through_the_catalogue():
    smol = cost.active_params_for("smollm2-135m")
    assert smol
    assert cost.active_params_for("openai:http://host:8000/v1#HuggingFaceTB/SmolLM2-135M") == smol
    assert cost.active_params_for("HuggingFaceTB/SmolLM2-135M-Instruct") == smol
    assert cost.active_params_for("openai:http://host:8000/v1#no-such-model") is None


@pytest.mark.model
@pytest.mark.parametrize("name", ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
def test_the_registry_figures_are_what_the_files_state(name):
    path = models.cached_path(name)
    if not path.exists():
        pytest.skip(f"{name} is not cached")
    assert gguf_params(path).total == models.REGISTRY[name].params


def test_an_embedded_backend_on_a_gguf_path_has_the_files_parameters(tmp_path, monkeypatch):
    from ponder.backends import embedded

    monkeypatch.setattr(embedded, "_load_server", lambda path, options: object())
    path = write_gguf(tmp_path / "mine.gguf", {"token_embd.weight": (HIDDEN, VOCAB), **LAYER})
    backend = embedded.EmbeddedBackend(str(path))
    assert backend.active_params == VOCAB * HIDDEN + LAYER_SIZE
