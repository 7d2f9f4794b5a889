"""CPU per request of the HTTP client alone, with many requests in flight to the fake
upstream of ``proxy_overhead.py``: the client that ``OpenAIBackend`` is built on,
measured without the proxy around it.

    python benchmarks/http_client.py --concurrency 200 --requests 4000

Each client (httpx as the backend used it before, httpx with a tight pool, aiohttp,
and ``OpenAIBackend.chat_raw`` itself) sends the same load in this process; the
report prints wall time, p50/p99 latency and this process's CPU per request.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).parent))
from proxy_overhead import REQUEST, free_port, pct, run_upstream, wait_port

from ponder.backends.http import OpenAIOptions
from ponder.backends.openai import OpenAIBackend

Post = Callable[[], Awaitable[Any]]


async def drive(post: Post, concurrency: int, total: int) -> tuple[float, float, list[float]]:
    """Wall seconds, CPU seconds and latencies of ``total`` posts, ``concurrency`` at once."""
    latencies: list[float] = []
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            start = time.perf_counter()
            await post()
            latencies.append(time.perf_counter() - start)

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu, latencies


async def httpx_client(url: str, concurrency: int, connections: int, args: Any) -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def post() -> Any:
            response = await client.post("/chat/completions", json=REQUEST)
            return response.json()

        await report(f"httpx, {connections} connections", post, concurrency, args)


async def aiohttp_client(url: str, concurrency: int, args: Any) -> None:
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def post() -> Any:
            async with session.post(f"{url}/chat/completions", json=REQUEST) as response:
                return await response.json()

        await report("aiohttp", post, concurrency, args)


async def backend_client(url: str, concurrency: int, args: Any) -> None:
    backend = OpenAIBackend(url, "fake", OpenAIOptions(concurrency=concurrency * 2, retries=0))
    try:
        await report("OpenAIBackend.chat_raw", lambda: backend.chat_raw(REQUEST), concurrency, args)
    finally:
        await backend.aclose()


CPU_MS: dict[str, list[float]] = {}


async def report(name: str, post: Post, concurrency: int, args: Any) -> None:
    await drive(post, min(concurrency, 20), 200)  # warm-up: connections
    wall, cpu, latencies = await drive(post, concurrency, args.requests)
    CPU_MS.setdefault(name, []).append(cpu * 1000 / args.requests)
    print(
        f"{name:<28} wall {wall:6.2f}s  p50 {pct(latencies, 0.5):8.2f}ms  "
        f"p99 {pct(latencies, 0.99):8.2f}ms  CPU/req {cpu * 1000 / args.requests:6.2f}ms"
    )


async def run_all(url: str, args: Any) -> None:
    c = args.concurrency
    for _ in range(args.rounds):
        if "httpx" in args.clients:
            await httpx_client(url, c, c * 4, args)
            await httpx_client(url, c, c, args)
        if "aiohttp" in args.clients:
            await aiohttp_client(url, c, args)
        if "backend" in args.clients:
            await backend_client(url, c, args)


def print_ratios() -> None:
    """CPU per request of each client relative to the backend's own (median of rounds)."""
    medians = {name: sorted(v)[len(v) // 2] for name, v in CPU_MS.items()}
    ours = medians.get("OpenAIBackend.chat_raw")
    if not ours:
        return
    for name, value in medians.items():
        print(f"{name:<28} CPU/req {value:6.2f}ms  = {value / ours:5.1f}x OpenAIBackend's")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--delay", type=float, default=0.05, help="upstream latency (s)")
    parser.add_argument("--clients", default="httpx,aiohttp,backend")
    args = parser.parse_args()
    if not (1 <= args.concurrency <= 1000 and 1 <= args.requests <= 20000 and args.rounds <= 10):
        parser.error("keep it bounded: concurrency <= 1000, requests <= 20000, rounds <= 10")
    port = free_port()
    upstream = mp.get_context("spawn").Process(
        target=run_upstream, args=(port, args.delay, 0.0), daemon=True
    )
    upstream.start()
    try:
        wait_port(port)
        print(f"{args.concurrency} in flight, {args.requests} requests, delay {args.delay}s")
        asyncio.run(run_all(f"http://127.0.0.1:{port}/v1", args))
        print_ratios()
    finally:
        upstream.terminate()
        upstream.join(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
