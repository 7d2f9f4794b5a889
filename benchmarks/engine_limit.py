"""The embedded engine against the machine's limits, and ponder's overhead over it
(issue 28, item 3).

Per tier (Qwen2.5-Coder-0.5B and -1.5B through xllamacpp, ``--threads`` llama.cpp
threads), in one run:

* decode tokens/s of one sequence and of a batch of 8 (one request, n=8), measured on
  the raw engine (``xllamacpp.Server.handle_chat_completions``) with ``ignore_eos`` so
  every sequence decodes exactly ``--max-tokens`` tokens; seconds include the short
  prompt's prefill (about 30 tokens);
* the memory-bandwidth limit: every decode step reads every weight once (Qwen2.5's
  output head is tied to the embedding, so the GGUF file's size is the bytes read per
  step, KV-cache reads at this context are under 1% of it), at the bandwidth a numpy
  copy of 512 MiB measures on ``--threads`` threads (bytes read + bytes written per
  second). One sequence: bandwidth / weight bytes tokens/s; a batch of 8 shares each
  read: 8x that;
* the compute limit: 2 x active parameters FLOPs per token at the float32 matrix-multiply
  rate numpy measures on the machine (a ceiling: llama.cpp's quantised kernels do other
  work per FLOP);
* ponder's overhead for ``sc:n=8``: the strategy on the embedded backend against one
  direct n=8 request to the same engine, same prompt and sampling, on a prompt whose
  eight answers run to ``--max-tokens`` (the direct call with ``ignore_eos``, so both
  decode the same tokens; the line says both counts), rounds interleaved; the ratio of
  seconds per completion token. Target: at most 5%.

With ``--pace-out FILE`` it also writes each tier's pace (prompt tokens/s; seconds of a
decode step with one sequence and with eight), which ``benchmarks/ladder.py`` reads to
put wall seconds per question beside FLOPs (``benchmarks/data/ladder/pace.json``).

    python benchmarks/engine_limit.py [--tiers 0.5b,1.5b] [--max-tokens 128] [--rounds 5]
    python benchmarks/engine_limit.py --parts decode --pace-out benchmarks/data/ladder/pace.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from ponder import ask_async, models
from ponder.backends import load_backend

TIERS = {"0.5b": "qwen2.5-coder-0.5b", "1.5b": "qwen2.5-coder-1.5b"}
LONG = "Count from 1 to 1000, one number per line, nothing else."


@dataclass(frozen=True)
class Limits:
    bandwidth_tok_s: float  # tokens/s memory bandwidth allows
    compute_tok_s: float  # tokens/s compute allows

    @property
    def bound(self) -> float:
        return min(self.bandwidth_tok_s, self.compute_tok_s)


def limits(
    weight_bytes: float, params: float, bandwidth: float, flops: float, batch: int
) -> Limits:
    """Decode limits of ``batch`` sequences: the weights read once per step serve every
    sequence in it; each token costs 2 x params FLOPs."""
    if min(weight_bytes, params, bandwidth, flops) <= 0 or batch < 1:
        raise ValueError("sizes, rates and the batch must be positive")
    return Limits(batch * bandwidth / weight_bytes, flops / (2.0 * params))


def overhead(ours_s: float, ours_tokens: int, raw_s: float, raw_tokens: int) -> float:
    """ponder's extra seconds per completion token over the raw engine's, as a share."""
    if min(ours_tokens, raw_tokens) <= 0 or raw_s <= 0:
        raise ValueError("both runs must decode tokens in positive time")
    return (ours_s / ours_tokens) / (raw_s / raw_tokens) - 1.0


def copy_bandwidth(threads: int, mib: int = 512, reps: int = 5) -> float:
    """Bytes/s of ``threads`` concurrent numpy copies of ``mib`` MiB in all (read +
    write), the best of ``reps``; numpy releases the GIL while it copies."""
    n = mib * 2**20 // 8 // threads
    src = [np.ones(n) for _ in range(threads)]
    dst = [np.empty(n) for _ in range(threads)]
    best = 0.0
    for _ in range(reps):
        workers = [
            threading.Thread(target=np.copyto, args=(d, s)) for d, s in zip(dst, src, strict=True)
        ]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best = max(best, 2 * 8 * n * threads / (time.perf_counter() - start))
    return best


def matmul_flops(size: int = 1024, reps: int = 5) -> float:
    """FLOP/s of a float32 matrix multiply (numpy's BLAS, its own threads), the best of
    ``reps``."""
    a = np.random.default_rng(0).random((size, size), dtype=np.float32)
    best = 0.0
    for _ in range(reps):
        start = time.perf_counter()
        a @ a
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def machine_rates(threads: int) -> tuple[float, float]:
    return copy_bandwidth(threads), matmul_flops()


def raw_server(path: Path, threads: int, slots: int) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_parallel = slots
    params.n_ctx = 1024 * slots
    for cpu in (params.cpuparams, params.cpuparams_batch):
        cpu.n_threads = threads
        cpu.poll = 0  # as ponder's embedded backend: workers sleep between steps
    params.verbosity = -1
    params.warmup = False
    return xllamacpp.Server(params)


def raw_decode(server: Any, n: int, max_tokens: int, ignore_eos: bool = True) -> tuple[float, int]:
    """(seconds, completion tokens) of one chat request of ``n`` answers to ``LONG``; with
    ``ignore_eos`` each decodes exactly ``max_tokens`` tokens."""
    body = {
        "messages": [{"role": "user", "content": LONG}],
        "n": n,
        "max_tokens": max_tokens,
        "temperature": 0.7,
        "logprobs": True,  # each answer's tokens (llama.cpp's usage counts one answer)
        "ignore_eos": ignore_eos,
    }
    seconds, data = timed_chat(server, body)
    tokens = sum(len((c.get("logprobs") or {}).get("content") or []) for c in data["choices"])
    return seconds, tokens


def timed_chat(server: Any, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """(seconds, response) of one chat request straight to the engine."""
    start = time.perf_counter()
    data = server.handle_chat_completions(body)
    seconds = time.perf_counter() - start
    if not isinstance(data, dict) or "error" in data:
        raise RuntimeError(f"the engine failed: {data!r:.200}")
    return seconds, data


PREFILL = (
    "Round {k}. A baker sells muffins at a market on each of the seven days of the week. "
    "On Monday she sells 14 boxes of 6 muffins and 9 single muffins; on each later day she "
    "sells 3 boxes more than the day before, while the single muffins stay the same. Every "
    "box costs 7 dollars and a single muffin costs 1 dollar 50 cents. She pays 120 dollars a "
    "week for her stall and 2 dollars for the flour and butter in every box she bakes. "
)


def prefill_rate(server: Any, rounds: int) -> float:
    """Prompt tokens per second: requests of one long real-looking prompt (its first words
    differ per round, so no slot's prefix cache serves it) that decode one token."""
    tokens, seconds = 0, 0.0
    for k in range(rounds):
        body = {
            "messages": [{"role": "user", "content": PREFILL.format(k=k) * 4}],
            "max_tokens": 1,
            "temperature": 0.0,
        }
        took, data = timed_chat(server, body)
        seconds += took
        tokens += int((data.get("usage") or {}).get("prompt_tokens") or 0)
    return tokens / seconds


def measure_tier(
    name: str, args: argparse.Namespace, bandwidth: float, flops: float
) -> dict[str, float]:
    """Prints the tier's decode rates against its limits and ponder's overhead; returns
    its pace (prompt tokens/s, seconds per decode step with 1 and 8 sequences) when the
    decode part ran."""
    model = TIERS[name]
    path = models.resolve(model)
    weight_bytes = float(path.stat().st_size)
    params = float(models.REGISTRY[model].params)
    server = raw_server(path, args.threads, 8)
    raw_decode(server, 8, args.max_tokens)  # warm up: pages the mapped weights in
    print(f"\n== {model}: {weight_bytes / 1e6:.0f} MB of weights, {params / 1e9:.2f} B params ==")
    if "decode" in args.part_names:
        head = f"{'decode':<14}{'tok/s':>8}{'bandwidth limit':>17}{'compute limit':>15}"
        print(f"{head}{'of bound':>10}")
    pace: dict[str, float] = {}
    for batch in (1, 8) if "decode" in args.part_names else ():
        runs = [raw_decode(server, batch, args.max_tokens) for _ in range(args.rounds)]
        rate = sum(t for _, t in runs) / sum(s for s, _ in runs)
        lim = limits(weight_bytes, params, bandwidth, flops, batch)
        print(
            f"{'batch of ' + str(batch):<14}{rate:>8.1f}{lim.bandwidth_tok_s:>17.1f}"
            f"{lim.compute_tok_s:>15.1f}{rate / lim.bound:>9.0%}"
        )
        pace[f"step_s_{batch}"] = batch / rate
    if pace:
        pace["prefill_tok_s"] = prefill_rate(server, args.rounds)
        print(f"prefill: {pace['prefill_tok_s']:.0f} prompt tokens/s")
    if "sc" in args.part_names:
        compare_sc(model, server, args)
    return pace


def compare_sc(model: str, raw: Any, args: argparse.Namespace) -> None:
    backend = load_backend(f"embedded:{model}?threads={args.threads}&slots=8&ctx=1024")
    spec = f"sc:n=8,max_tokens={args.max_tokens},temperature=0.7,cot=false"

    def ours() -> tuple[float, int]:  # the public API: the strategy is built per call
        start = time.perf_counter()
        result = asyncio.run(ask_async(LONG, backend, spec))
        return time.perf_counter() - start, result.usage.completion_tokens

    def direct() -> tuple[float, int]:  # sampled as ponder samples: answers may end early
        return raw_decode(raw, 8, args.max_tokens, ignore_eos=False)

    ours_runs: list[tuple[float, int]] = []
    raw_runs: list[tuple[float, int]] = []
    for r in range(args.rounds):
        order = [(ours, ours_runs), (direct, raw_runs)]
        for run, into in order if r % 2 == 0 else reversed(order):
            into.append(run())
    per_round = [
        overhead(o_s, o_t, r_s, r_t)
        for (o_s, o_t), (r_s, r_t) in zip(ours_runs, raw_runs, strict=True)
    ]
    o_t, r_t = sum(t for _, t in ours_runs), sum(t for _, t in raw_runs)
    share = overhead(sum(s for s, _ in ours_runs), o_t, sum(s for s, _ in raw_runs), r_t)
    verdict = "meets" if share <= 0.05 else "misses"
    print(
        f"sc:n=8 via ponder vs one direct n=8 call, {args.rounds} rounds interleaved: "
        f"{o_t} vs {r_t} tokens, seconds per token {share:+.1%} "
        f"(rounds {min(per_round):+.0%} to {max(per_round):+.0%}; {verdict} the 5% target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiers", default=",".join(TIERS))
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", default="decode,sc", help="decode (limits), sc (overhead)")
    parser.add_argument(
        "--pace-out",
        type=Path,
        help="write each tier's pace (prefill tok/s, seconds per decode step with 1 and 8 "
        "sequences) to this JSON file, for benchmarks/ladder.py's wall seconds",
    )
    args = parser.parse_args()
    tiers = [t for t in args.tiers.split(",") if t]
    if unknown := [t for t in tiers if t not in TIERS]:
        parser.error(f"unknown tier {unknown[0]!r}: use {', '.join(TIERS)}")
    args.part_names = [p for p in args.parts.split(",") if p]
    if not args.part_names or set(args.part_names) - {"decode", "sc"}:
        parser.error("--parts takes decode, sc or both")
    if min(args.max_tokens, args.rounds, args.threads) < 1:
        parser.error("--max-tokens, --rounds and --threads must be at least 1")
    if args.pace_out and "decode" not in args.part_names:
        parser.error("--pace-out needs the decode part (--parts decode or decode,sc)")
    # numpy's BLAS threads may spin after a multiply: measure in a process that then ends
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        bandwidth, flops = pool.submit(machine_rates, args.threads).result()
    print(
        f"machine: {bandwidth / 1e9:.1f} GB/s copy bandwidth on {args.threads} threads, "
        f"{flops / 1e9:.0f} GFLOP/s float32 matmul; load average {os.getloadavg()[0]:.2f} "
        "(other work on the cores lowers every figure below)"
    )
    paces = {TIERS[name]: measure_tier(name, args, bandwidth, flops) for name in tiers}
    if args.pace_out:
        meta = {
            "threads": args.threads,
            "max_tokens": args.max_tokens,
            "rounds": args.rounds,
            "load_average": round(os.getloadavg()[0], 2),
            "measured": time.strftime("%Y-%m-%d"),
            "by": "benchmarks/engine_limit.py --pace-out",
        }
        args.pace_out.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"meta": meta, "tiers": paces}, indent=1) + "\n"
        args.pace_out.write_text(text, encoding="utf-8")
        print(f"paces: {args.pace_out}")


if __name__ == "__main__":
    main()
