"""Latency the proxy adds: many concurrent requests straight to a fast fake upstream
and through ``ponder serve``'s app in front of it, side by side in one run.

    python benchmarks/proxy_overhead.py --concurrency 200 --requests 2000 --rounds 3

The fake upstream (a minimal asyncio HTTP/1.1 server that answers a canned chat
completion after ``--delay`` seconds), the proxy (uvicorn) and the load generator
run as separate processes on 127.0.0.1 only. Each round sends the same load to
the upstream directly and through the proxy; the report prints p50/p99 of both,
the added latency (proxy minus direct, per percentile), errors, and the proxy's
resident memory after each round (it should stay flat).

Real upstream latencies vary. With ``--jitter J`` each upstream answer waits a
random delay in ``delay * [1 - J, 1 + J]`` and reports it in the response id, so
every request's overhead (client latency minus the upstream's own wait) is known
exactly; the percentiles are taken over those overheads. Workers then also start
spread over one upstream delay rather than all at once. ``--jitter 0`` keeps
every worker in lockstep: 200 requests then reach the proxy in the same instant,
and the p50 measures that burst's queue (about 100 x the proxy's CPU per request).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import socket
import statistics
import sys
import time
from pathlib import Path

ID_WAIT = re.compile(rb'"id": ?"chatcmpl-wait(\d+)us"')
BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "fake",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14},
    }
).encode()
REQUEST = {
    "model": "fake",
    "messages": [{"role": "user", "content": "Capital of France?"}],
    "max_tokens": 8,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _handle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, jitter: float
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            wait = delay * (1 + jitter * (2 * random.random() - 1))
            if wait > 0:
                await asyncio.sleep(wait)
            body = BODY.replace(b"chatcmpl-bench", b"chatcmpl-wait%dus" % int(wait * 1e6))
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


def run_upstream(port: int, delay: float, jitter: float) -> None:
    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _handle(r, w, delay, jitter), "127.0.0.1", port, backlog=4096
        )
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def run_proxy(port: int, upstream_port: int, concurrency: int) -> None:
    import logging

    import uvicorn

    from ponder.server import ServerConfig, create_app

    logging.getLogger("ponder").setLevel(logging.WARNING)
    spec = f"openai:http://127.0.0.1:{upstream_port}/v1#fake?concurrency={concurrency}&retries=0"
    config = ServerConfig(models={"fake": spec}, max_concurrency=concurrency, max_queue=concurrency)
    uvicorn.run(
        create_app(config),
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        backlog=4096,
    )


class Connection:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less than
    the proxy it measures (httpx costs about a millisecond of CPU per request)."""

    def __init__(self, port: int, path: str) -> None:
        self.port = port
        body = json.dumps(REQUEST).encode()
        self.request = (
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        ).encode() + body
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self) -> tuple[int, float]:
        """Status and the upstream's own wait in seconds, read from the response id."""
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(self.request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = await reader.readexactly(length)
        found = ID_WAIT.search(body)
        return status, int(found.group(1)) / 1e6 if found else 0.0

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def load(
    port: int, concurrency: int, total: int, stagger: float = 0.0
) -> tuple[list[float], int]:
    """``total`` POSTs with ``concurrency`` in flight; per-request overhead (latency minus
    the upstream's wait, in s) and the error count."""
    latencies: list[float] = []
    errors = 0
    queue = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        connection = Connection(port, "/v1/chat/completions")
        await asyncio.sleep(random.random() * stagger)  # arrivals spread, not one burst
        try:
            for _ in queue:
                start = time.perf_counter()
                wait = 0.0
                try:
                    status, wait = await asyncio.wait_for(connection.post(), 60)
                    ok = status == 200
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                    connection.close()
                    connection = Connection(port, "/v1/chat/completions")
                    ok = False
                latencies.append(time.perf_counter() - start - wait)
                errors += not ok
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--requests", type=int, default=2000, help="per round and path")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=1.0, help="upstream latency (s)")
    parser.add_argument(
        "--jitter",
        type=float,
        default=0.5,
        help="upstream latency varies by +-this fraction (0: lockstep bursts)",
    )
    args = parser.parse_args()
    if not (1 <= args.concurrency <= 1000 and 1 <= args.requests <= 20000 and args.rounds <= 10):
        parser.error("keep it bounded: concurrency <= 1000, requests <= 20000, rounds <= 10")
    if not 0 <= args.jitter < 1:
        parser.error("--jitter must be in [0, 1)")
    up_port, proxy_port = free_port(), free_port()
    ctx = mp.get_context("spawn")
    upstream = ctx.Process(
        target=run_upstream, args=(up_port, args.delay, args.jitter), daemon=True
    )
    proxy = ctx.Process(
        target=run_proxy, args=(proxy_port, up_port, args.concurrency * 2), daemon=True
    )
    upstream.start()
    proxy.start()
    try:
        wait_port(up_port)
        wait_port(proxy_port)
        asyncio.run(load(proxy_port, 20, 200))  # warm-up: connections, imports
        return report(args, up_port, proxy_port, proxy.pid or 0)
    finally:
        proxy.terminate()
        upstream.terminate()
        proxy.join(10)
        upstream.join(10)


def ratio(direct_ms: float, added_ms: float) -> float:
    return (direct_ms + added_ms) / direct_ms


def report(args: argparse.Namespace, direct_port: int, proxy_port: int, pid: int) -> int:
    print(
        f"{args.concurrency} in flight, {args.requests} requests per path per round, "
        f"upstream latency {args.delay * 1000:.0f} ms +-{args.jitter:.0%}; columns are "
        "overheads: latency minus the upstream's own wait"
    )
    print(
        f"{'round':>5} {'direct p50':>11} {'p99':>8} {'proxy p50':>10} {'p99':>8} "
        f"{'added p50':>10} {'p99':>8} {'errors':>7} {'proxy RSS':>10} {'CPU/req':>8}"
    )
    added50, added99, direct50, cpu_ms, failures = [], [], [], [], 0
    for i in range(args.rounds):
        stagger = args.delay if args.jitter else 0.0
        direct, direct_errors = asyncio.run(
            load(direct_port, args.concurrency, args.requests, stagger)
        )
        cpu_before = cpu_s(pid)
        proxied, proxy_errors = asyncio.run(
            load(proxy_port, args.concurrency, args.requests, stagger)
        )
        cpu_ms.append((cpu_s(pid) - cpu_before) * 1000 / args.requests)
        d50, d99, p50, p99 = (
            pct(direct, 0.5),
            pct(direct, 0.99),
            pct(proxied, 0.5),
            pct(proxied, 0.99),
        )
        added50.append(p50 - d50)
        direct50.append(d50)
        added99.append(p99 - d99)
        failures += direct_errors + proxy_errors
        print(
            f"{i + 1:>5} {d50:>9.2f}ms {d99:>6.2f}ms {p50:>8.2f}ms {p99:>6.2f}ms "
            f"{p50 - d50:>8.2f}ms {p99 - d99:>6.2f}ms {direct_errors + proxy_errors:>7} "
            f"{rss_mb(pid):>8.1f}MB {cpu_ms[-1]:>6.2f}ms"
        )
    m50, m99 = statistics.median(added50), statistics.median(added99)
    print(
        f"added latency (median of rounds): p50 {m50:.2f} ms (target <= 2), "
        f"p99 {m99:.2f} ms (target <= 15); ratio proxy/direct p50 "
        f"{ratio(args.delay * 1000 + statistics.median(direct50), m50):.4f}; "
        "proxy CPU per request "
        f"{statistics.median(cpu_ms):.2f} ms; errors {failures}"
    )
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
