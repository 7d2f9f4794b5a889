"""Run a function on ``world_size`` local processes joined by gloo on loopback.

Each process sets one torch thread (oversubscribing a few cores runs many times slower),
joins a process group on a free loopback port and returns a picklable result. A rank that
fails or a group that hangs past ``timeout`` raises :class:`ExpertParallelError` instead of
hanging the caller.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import socket
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ponder.moe.errors import ExpertParallelError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rank_main(
    fn: Callable[..., Any],
    rank: int,
    world: int,
    port: int,
    timeout: float,
    args: tuple[Any, ...],
    out: Any,
) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    try:
        dist.init_process_group(
            "gloo",
            init_method=f"tcp://127.0.0.1:{port}",
            rank=rank,
            world_size=world,
            timeout=timedelta(seconds=timeout),
        )
        try:
            out.put((rank, True, fn(rank, world, *args)))
        finally:
            dist.destroy_process_group()
    except Exception:
        out.put((rank, False, traceback.format_exc(limit=3)))


def run_ranks(
    fn: Callable[..., Any],
    world_size: int,
    *args: Any,
    timeout: float = 60.0,
    start_method: str | None = None,
) -> list[Any]:
    """``[fn(rank, world_size, *args) for each rank]``, each in its own process.

    The default start method is ``forkserver`` where the platform has it, with torch
    preloaded in the server, so each rank starts in a fraction of a second without forking a
    process that holds threads; elsewhere ``spawn``."""
    if world_size < 1:
        raise ExpertParallelError(f"world size must be at least 1, got {world_size}")
    if start_method is None:
        methods = mp.get_all_start_methods()
        start_method = "forkserver" if "forkserver" in methods else "spawn"
    ctx: Any = mp.get_context(start_method)
    if start_method == "forkserver":
        ctx.set_forkserver_preload(["torch", "torch.distributed", fn.__module__])
    out = ctx.Queue()
    port = free_port()
    procs = [
        ctx.Process(target=_rank_main, args=(fn, r, world_size, port, timeout, args, out))
        for r in range(world_size)
    ]
    for p in procs:
        p.start()
    try:
        return _collect(out, world_size, timeout)
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def _collect(out: Any, world_size: int, timeout: float) -> list[Any]:
    results: dict[int, Any] = {}
    while len(results) < world_size:
        try:
            rank, ok, value = out.get(timeout=timeout)
        except queue.Empty:
            raise ExpertParallelError(
                f"expert-parallel ranks gave no answer within {timeout:g} s "
                f"({len(results)} of {world_size} done)"
            ) from None
        if not ok:
            last = value.strip().splitlines()[-1].rsplit("Error: ", 1)[-1]
            raise ExpertParallelError(f"rank {rank} failed: {last}")
        results[rank] = value
    return [results[r] for r in range(world_size)]
