"""The embedded model's thread default, idle and under a competing CPU load.

llama.cpp's worker threads spin-wait between steps; when other work holds the cores,
a thread count equal to every core collapses. This runs the same greedy generation
("What is 4 + 2?", 16 tokens, SmolLM2-135M) with:
  * before: every core (``os.cpu_count()``), llama.cpp's default polling (poll=50), the
    old default;
  * ours: the new default (free cores from CPU affinity and the load average; workers
    sleep, poll=0);
  * alternatives: one thread with polling, every core without polling;
first with no load of ours, then with one busy-looping process per available core,
then next to another process generating with llama.cpp's old default (what a second
ponder user on the machine runs), both started by this script. Configurations are
interleaved round by round so machine noise hits all alike. Prints the median seconds
per generation and before/ours.

    python benchmarks/threads.py [--rounds 5] [--max-tokens 16]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
from typing import Any

from ponder.backends.embedded import (
    EmbeddedBackend,
    EmbeddedOptions,
    available_cores,
    default_threads,
)
from ponder.types import Message, SamplingParams

QUESTION = [Message("user", "What is 4 + 2?")]


def configs() -> dict[str, EmbeddedOptions]:
    every = max(1, os.cpu_count() or 1)
    return {
        f"before: threads={every}, poll=50": EmbeddedOptions(threads=every, poll=50, slots=1),
        "ours: default (free cores, poll=0)": EmbeddedOptions(slots=1),
        "threads=1, poll=50": EmbeddedOptions(threads=1, poll=50, slots=1),
        f"threads={every}, poll=0": EmbeddedOptions(threads=every, poll=0, slots=1),
    }


def burn() -> None:
    while True:
        pass


def rival() -> None:
    """Another llama.cpp process generating non-stop with the old default."""
    every = max(1, os.cpu_count() or 1)
    backend = EmbeddedBackend("smollm2-135m", EmbeddedOptions(threads=every, poll=50, slots=2))

    async def forever() -> None:
        while True:
            await timed(backend, 64)

    asyncio.run(forever())


async def under(
    title: str, loads: list[multiprocessing.process.BaseProcess], measured: Any
) -> None:
    for process in loads:
        process.start()
    try:
        time.sleep(3.0)  # the rival loads its model
        if not all(process.is_alive() for process in loads):
            raise SystemExit(f"a competing process died before measuring: {title}")
        report(title, await measured())
        if not all(process.is_alive() for process in loads):
            raise SystemExit(f"a competing process died while measuring: {title}")
    finally:
        for process in loads:
            process.terminate()
            process.join()


async def timed(backend: EmbeddedBackend, max_tokens: int) -> float:
    start = time.perf_counter()
    await backend.generate(QUESTION, SamplingParams(temperature=0.0, max_tokens=max_tokens), 1)
    return time.perf_counter() - start


async def measure(
    backends: dict[str, EmbeddedBackend], rounds: int, max_tokens: int
) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in backends}
    for _ in range(rounds):
        for name, backend in backends.items():
            times[name].append(await timed(backend, max_tokens))
    return {name: statistics.median(t) for name, t in times.items()}


def report(title: str, medians: dict[str, float]) -> None:
    names = list(medians)
    before, ours = medians[names[0]], medians[names[1]]
    print(f"\n{title}")
    for name, seconds in medians.items():
        print(f"  {name:40s} {seconds:7.2f} s   before/this {before / seconds:5.2f}x")
    print(f"  => before/ours: {before / ours:.2f}x")


async def main(rounds: int, max_tokens: int) -> None:
    print(
        f"cores: {os.cpu_count()} on the machine, {available_cores()} available; "
        f"load average {os.getloadavg()[0]:.2f}; our default now: {default_threads()} thread(s)"
    )
    backends = {name: EmbeddedBackend("smollm2-135m", opts) for name, opts in configs().items()}
    for backend in backends.values():  # warm up
        await timed(backend, 4)
    report("without a competing load of ours", await measure(backends, rounds, max_tokens))
    spawn = multiprocessing.get_context("spawn")
    cores = available_cores()
    burners = [spawn.Process(target=burn, daemon=True) for _ in range(cores)]
    await under(
        f"with {cores} busy-looping processes (one per available core)",
        burners,
        lambda: measure(backends, rounds, max_tokens),
    )
    await under(
        "next to another llama.cpp process generating with the old default",
        [spawn.Process(target=rival, daemon=True)],
        lambda: measure(backends, rounds, max_tokens),
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=16)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.max_tokens))
