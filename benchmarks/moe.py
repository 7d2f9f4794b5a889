"""The MoE layer: cost follows active parameters; expert parallelism's traffic.

Three comparisons, each measured side by side in one run (rounds interleaved so that machine
noise hits every contender alike), fp32 on CPU:
  1. ours (tokens sorted by expert, one contiguous slice per expert) vs Hugging Face's
     per-expert loop (MixtralSparseMoeBlock, eager experts) on the same weights, at 256, 1024
     and 4096 tokens, for E=8,K=2 and E=64,K=6 (finer experts). Targets: >= 1.3x faster at
     E=64,K=6 with 256 tokens, no slower at E=8.
  2. ours vs a dense SwiGLU FFN with the same active parameters (width K*I) and one with the
     same total parameters (width E*I), E=8,K=2. Targets: within 1.3x of the active one, at
     least 3x faster than the total one.
  3. expert parallelism over gloo on loopback at world size 1, 2, 4: bytes each rank sends
     and time per layer, against the planner's estimate (ponder.deploy.comm).

    python benchmarks/moe.py [--threads 1] [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch
from transformers import MixtralConfig
from transformers.models.mixtral.modeling_mixtral import MixtralSparseMoeBlock

from ponder.moe import MoEConfig, SwiGLU
from ponder.moe.epcheck import compare, summary
from ponder.moe.hf import from_hf_block


def hf_block(hidden: int, width: int, experts: int, top_k: int) -> Any:
    cfg = MixtralConfig(
        hidden_size=hidden,
        intermediate_size=width,
        num_local_experts=experts,
        num_experts_per_tok=top_k,
    )
    cfg._experts_implementation = "eager"  # the per-expert loop
    torch.manual_seed(0)
    block = MixtralSparseMoeBlock(cfg)
    for p in block.parameters():
        torch.nn.init.normal_(p, std=0.02)
    return block


def race(contenders: dict[str, Callable[[], object]], rounds: int, reps: int) -> dict[str, float]:
    """Median ms per call of each contender; rounds interleave the contenders.

    With one torch thread the work runs on the calling thread, so its CPU time
    (``time.thread_time``) is what is compared: on a shared machine it leaves out the time
    spent waiting for a core, which wall time does not."""
    clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in contenders}
    with torch.no_grad():
        for fn in contenders.values():
            fn()
        for _ in range(rounds):
            for name, fn in contenders.items():
                start = clock()
                for _ in range(reps):
                    fn()
                times[name].append((clock() - start) / reps * 1e3)
    return {name: statistics.median(ts) for name, ts in times.items()}


def versus_hf(rounds: int, sizes: list[int]) -> None:
    print("1. ours vs Hugging Face's per-expert loop (same weights), ms per layer call")
    print(f"{'config':<26}{'tokens':>7}{'HF loop':>10}{'ours':>10}{'speed-up':>10}{'max diff':>10}")
    for hidden, width, e, k in ((512, 1024, 8, 2), (512, 256, 64, 6)):
        block = hf_block(hidden, width, e, k)
        ours = from_hf_block(block)
        for tokens in sizes:
            x = torch.randn(1, tokens, hidden)
            with torch.no_grad():
                diff = float((block(x) - ours(x)).abs().max())
            reps = max(1, 1024 // tokens)
            t = race(
                {"hf": lambda b=block, x=x: b(x), "ours": lambda o=ours, x=x: o(x)}, rounds, reps
            )
            label = f"E={e},K={k},H={hidden},I={width}"
            print(
                f"{label:<26}{tokens:>7}{t['hf']:>10.2f}{t['ours']:>10.2f}"
                f"{t['hf'] / t['ours']:>9.2f}x{diff:>10.1e}"
            )


def versus_dense(rounds: int, tokens: int) -> None:
    hidden, width, e, k = 512, 1024, 8, 2
    print(f"\n2. ours vs dense SwiGLU FFNs, E={e},K={k},H={hidden},I={width}, {tokens} tokens")
    torch.manual_seed(0)
    from ponder.moe import MoELayer

    moe = MoELayer(MoEConfig(hidden_size=hidden, expert_intermediate=width, num_experts=e, top_k=k))
    active, total = SwiGLU(hidden, k * width), SwiGLU(hidden, e * width)
    x = torch.randn(tokens, hidden)
    t = race(
        {"moe": lambda: moe(x), "active": lambda: active(x), "total": lambda: total(x)}, rounds, 2
    )
    cfg = moe.cfg
    sizes = f"{cfg.total_params / 1e6:.1f}M total, {cfg.active_params / 1e6:.1f}M active"
    print(f"  ours: {t['moe']:8.2f} ms ({sizes})")
    print(f"  dense, same active params (width {k * width}): {t['active']:8.2f} ms")
    print(f"  dense, same total params (width {e * width}): {t['total']:8.2f} ms")
    print(f"  ours / active-dense = {t['moe'] / t['active']:.2f}x (target <= 1.3)")
    print(f"  total-dense / ours = {t['total'] / t['moe']:.2f}x (target >= 3)")


def expert_parallel(tokens: int, repeats: int) -> None:
    hidden, width, e, k = 512, 1024, 8, 2
    cfg = MoEConfig(hidden_size=hidden, expert_intermediate=width, num_experts=e, top_k=k)
    print(f"\n3. expert parallelism (gloo on loopback, 1 thread per rank), E={e},K={k},H={hidden}")
    print(f"   {tokens} tokens per rank, random router; bytes are hidden-state payload per rank")
    head = ("world", "max diff", "planner B", "sent B min..max", "sent/plan", "ms/layer")
    print(f"{head[0]:>6}{head[1]:>10}{head[2]:>12}{head[3]:>24}{head[4]:>11}{head[5]:>10}")
    for world in (1, 2, 4):
        s = summary(compare(cfg, world, tokens, repeats=repeats, timeout=300), cfg)
        sent = [r["payload_bytes"] for r in s["ranks"]]
        plan = s["planner_bytes"]
        ms = statistics.median(r["ms_per_layer"] for r in s["ranks"])
        ratio = f"{statistics.mean(sent) / plan:.3f}" if plan else "-"
        span = f"{min(sent):,}..{max(sent):,}"
        print(f"{world:>6}{s['max_abs_diff']:>10.1e}{plan:>12,.0f}{span:>24}{ratio:>11}{ms:>10.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer sizes, for a smoke run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    clock = "thread CPU time" if args.threads == 1 else "wall time"
    print(f"torch {torch.__version__}, {args.threads} thread(s), fp32, CPU; ms are {clock}\n")
    versus_hf(args.rounds, [256] if args.quick else [256, 1024, 4096])
    versus_dense(args.rounds, 256 if args.quick else 1024)
    expert_parallel(128 if args.quick else 512, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
