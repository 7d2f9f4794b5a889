"""One run at a time per run directory: an advisory lock that names its holder.

Two ``eval run`` processes on one ``--out`` would each do the whole work and write
duplicates. The first takes an exclusive ``flock`` on ``RUN_DIR/.lock`` and writes who
it is there; the second reads that and fails at once with one line naming the holder.
The kernel drops the lock when the holder exits, however it exits (SIGKILL included),
so a stale lock file never blocks anyone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ponder.errors import RunInUseError

LOCK = ".lock"
_HELD: dict[Path, int] = {}  # directories this process holds: nested holds are free


def _holder(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, json.JSONDecodeError):
        return "another process"
    started = time.strftime("%H:%M:%S", time.localtime(float(data.get("started", 0))))
    who = f"pid {data.get('pid', '?')} on {data.get('host', '?')}"
    return f"{who} (since {started}: {data.get('command', '')})"


@contextmanager
def run_lock(directory: str | Path) -> Iterator[None]:
    """Hold the run directory's lock for the block; RunInUseError when another holds it."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key = folder.resolve()
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
    path = folder / LOCK
    handle: IO[str] = path.open("a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInUseError(
                f"{folder} is in use by {_holder(path)}: wait for it to finish or use another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "command": " ".join(sys.argv[:1] + sys.argv[1:])[:200],
        }
        handle.write(json.dumps(me))
        handle.flush()
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        handle.close()  # closing the descriptor releases the flock
