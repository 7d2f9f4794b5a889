"""The serve planner: layout choice, the vLLM command, and its reasons."""

from __future__ import annotations

import shlex

import pytest

from ponder.deploy import (
    DoesNotFitError,
    Layout,
    PlanError,
    find_gpu,
    load_architecture,
    plan_memory,
    plan_serve,
)
from ponder.deploy.explain import explain


def flags(command: str) -> dict[str, str]:
    args = shlex.split(command)
    out: dict[str, str] = {}
    for i, arg in enumerate(args):
        if arg.startswith("--"):
            nxt = args[i + 1] if i + 1 < len(args) else ""
            out[arg] = "" if nxt.startswith("--") or not nxt else nxt
    return out


def test_lecture_scenario_mixtral_8x22b_uses_expert_parallelism() -> None:
    plan = plan_serve(load_architecture("mixtral-8x22b"), find_gpu("H100-80GB"), 8, 32_000)
    f = flags(plan.command)
    assert plan.command.startswith("vllm serve mistralai/Mixtral-8x22B-v0.1 ")
    assert "--enable-expert-parallel" in f
    tp, pp, dp = (
        int(f[k])
        for k in ("--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size")
    )
    assert tp * pp * dp == 8
    assert f["--max-model-len"] == "32000"
    assert f["--kv-cache-dtype"] == "auto"
    assert f["--gpu-memory-utilization"] == "0.9"
    assert any("expert parallelism" in r and "2 of 8" in r for r in plan.reasons)
    assert plan.memory.fits and plan.memory.total_concurrency >= 16


def test_deepseek_v3_prefers_data_parallel_attention() -> None:
    plan = plan_serve(load_architecture("deepseek-v3"), find_gpu("H200"), 8, 32_000)
    assert plan.layout.dp == 8 and plan.layout.ep
    assert any("MLA caches one 576-element latent" in r for r in plan.reasons)
    assert "--quantization" not in plan.command  # the checkpoint is already fp8


def test_dense_70b_uses_tensor_parallelism_in_a_node() -> None:
    plan = plan_serve(load_architecture("llama-3.1-70b"), find_gpu("H100"), 8, 32_000)
    assert plan.layout.tp in (4, 8) and plan.layout.pp == 1
    assert "--enable-expert-parallel" not in plan.command


def test_kv_head_replication_is_explained() -> None:
    arch, gpu = load_architecture("qwen3-30b-a3b"), find_gpu("L4")  # 4 KV heads
    memory = plan_memory(arch, gpu, Layout(tp=8), 32_000)
    reasons = explain(arch, gpu, memory, target=16)
    assert any("TP=8 exceeds the model's 4 KV heads" in r for r in reasons)
    assert not any(
        "KV heads" in r
        for r in explain(arch, gpu, plan_memory(arch, gpu, Layout(tp=4), 32_000), target=16)
    )


def test_fp8_quantisation_adds_the_flag() -> None:
    plan = plan_serve(load_architecture("llama-3.1-70b"), find_gpu("H100"), 2, 8192, "fp8")
    assert flags(plan.command)["--quantization"] == "fp8"


def test_fp8_kv_cache_flag() -> None:
    arch = load_architecture("ministral-8b")
    plan = plan_serve(arch, find_gpu("L40S"), 1, 32_000, kv_dtype="fp8")
    assert flags(plan.command)["--kv-cache-dtype"] == "fp8"


def test_model_that_cannot_fit_says_how_many_gpus() -> None:
    with pytest.raises(DoesNotFitError, match=r"Use at least \d+ GPUs.*--dtype"):
        plan_serve(load_architecture("mixtral-8x22b"), find_gpu("L4"), 2, 8192)


def test_context_that_cannot_fit() -> None:
    with pytest.raises(DoesNotFitError, match="lower --context"):
        plan_serve(load_architecture("gemma-2-9b"), find_gpu("L4"), 1, 8192)


def test_bad_counts_and_contexts() -> None:
    arch = load_architecture("llama-2-70b")
    with pytest.raises(PlanError, match="--count 1 or more"):
        plan_serve(arch, find_gpu("H100"), 0, 4096)
    with pytest.raises(PlanError, match="max_position_embeddings"):
        plan_serve(arch, find_gpu("H100"), 8, 32_000)


def test_cpu_gets_a_llama_cpp_command() -> None:
    plan = plan_serve(load_architecture("qwen2.5-1.5b"), find_gpu("laptop"), 1, 4096, "q4_k_m")
    assert plan.command.startswith("llama-server -m qwen2.5-1.5b-Q4_K_M.gguf -c 4096")


def test_unknown_gpu() -> None:
    with pytest.raises(PlanError, match="use one of: H100-80GB"):
        find_gpu("TPU-v5")


def test_to_dict_is_json_ready() -> None:
    import json

    plan = plan_serve(load_architecture("qwen2.5-3b"), find_gpu("A100-40GB"), 2, 8192)
    data = json.loads(json.dumps(plan.to_dict()))
    assert data["command"].startswith("vllm serve Qwen/Qwen2.5-3B")
    assert data["memory"]["layout"]["tp"] * data["memory"]["layout"]["dp"] == 2
