"""8-sample self-consistency on the embedded model: how the samples are drawn matters.

Compares, in one run and interleaved round by round so that machine noise hits all
three alike:
  * ours: one request with n=8 (parallel slots sharing one prompt prefill);
  * sequential: 8 requests one after another (how optillm's self_consistency draws);
  * concurrent: 8 single requests in flight at once.
Prints median seconds per 8 samples, tokens per second, and the ratios.
Target: one n=8 request at least 3x faster than sequential.

    python benchmarks/sampling.py [--rounds 5] [--max-tokens 64] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from ponder.backends import load_backend
from ponder.backends.base import Backend
from ponder.types import Message, Sample, SamplingParams

QUESTION = (
    "A baker makes 24 muffins. She sells 9 in the morning and 7 in the afternoon. "
    "How many muffins are left? Think step by step."
)


async def one_request(backend: Backend, params: SamplingParams) -> list[Sample]:
    return await backend.generate([Message("user", QUESTION)], params, 8)


async def sequential(backend: Backend, params: SamplingParams) -> list[Sample]:
    out: list[Sample] = []
    for _ in range(8):
        out += await backend.generate([Message("user", QUESTION)], params, 1)
    return out


async def concurrent(backend: Backend, params: SamplingParams) -> list[Sample]:
    batches = await asyncio.gather(
        *(backend.generate([Message("user", QUESTION)], params, 1) for _ in range(8))
    )
    return [s for b in batches for s in b]


MODES = {"n=8 (ours)": one_request, "sequential": sequential, "concurrent": concurrent}


async def main(rounds: int, max_tokens: int, threads: int) -> None:
    backend = load_backend(f"embedded:smollm2-135m?threads={threads}&slots=8&ctx=1024")
    params = SamplingParams(temperature=0.7, max_tokens=max_tokens)
    await one_request(backend, params)  # warm up
    times: dict[str, list[float]] = {m: [] for m in MODES}
    tokens: dict[str, list[int]] = {m: [] for m in MODES}
    for r in range(rounds):
        order = list(MODES) if r % 2 == 0 else list(reversed(MODES))
        for mode in order:
            start = time.perf_counter()
            samples = await MODES[mode](backend, params)
            times[mode].append(time.perf_counter() - start)
            tokens[mode].append(sum(s.completion_tokens for s in samples))
        print(f"round {r + 1}/{rounds}: " + ", ".join(f"{m} {times[m][-1]:.2f}s" for m in MODES))
    ours = statistics.median(times["n=8 (ours)"])
    print(f"\n{'mode':<14}{'median s':>10}{'tok/s':>10}{'vs ours':>10}")
    for mode in MODES:
        med = statistics.median(times[mode])
        rate = sum(tokens[mode]) / sum(times[mode])
        print(f"{mode:<14}{med:>10.2f}{rate:>10.1f}{med / ours:>9.2f}x")
    ratio = statistics.median(times["sequential"]) / ours
    verdict = "meets" if ratio >= 3 else "misses"
    print(f"\nsequential / n=8 = {ratio:.2f}x ({verdict} the 3x target)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.max_tokens, args.threads))
