"""The three servers of ``benchmarks/peers.py`` on loopback: the upstream (``ponder
serve`` in pass-through over the embedded models), ponder's proxy and optillm's proxy
in front of it. Started on free ports, logs in the run's folder, stopped (by the ids
of the processes started here) when the run ends."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from peerslib.score import TIERS, ArmError


@dataclass(frozen=True)
class ServerSettings:
    upstream: tuple[str, ...]  # ID=SPEC served by the upstream
    optillm_bin: Path
    best_of_n: int
    timeout_s: float

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServerSettings:
        options = f"threads={args.threads}&slots={args.slots}&ctx={args.ctx}"
        default = [f"{m}=embedded:{m}?{options}" for m in TIERS.values()]
        return cls(
            tuple(args.upstream or default), args.optillm_bin, args.optillm_best_of_n, args.timeout
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ponder_serve(models: list[str], port: int, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "ponder", "serve", "--port", str(port)]
    for spec in models:
        command += ["--model", spec]
    return [*command, "--log-level", "warning", "--no-access-log", *extra]


def proxy_models(upstream_url: str, timeout_s: float) -> list[str]:
    """ponder's served ids: each tier alone (``solo-``) and the two as auto's tiers."""

    def spec(model: str) -> str:
        return f"openai:{upstream_url}#{model}?timeout={timeout_s:g}&retry=none"

    specs = [f"solo-{tier}={spec(model)}" for tier, model in TIERS.items()]
    return specs + [f"ladder-{tier}={spec(model)}" for tier, model in TIERS.items()]


class Servers:
    """``with Servers(settings, folder) as s``: all three up and ready, else an error."""

    def __init__(self, settings: ServerSettings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.ports = {name: free_port() for name in ("upstream", "ponder", "optillm")}
        self.processes: list[subprocess.Popen[bytes]] = []
        self.client = httpx.Client(timeout=settings.timeout_s)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/v1"

    def upstream_metrics(self) -> str:
        reply = self.client.get(f"http://127.0.0.1:{self.ports['upstream']}/metrics")
        reply.raise_for_status()
        return reply.text

    def __enter__(self) -> Servers:
        try:
            self._start(
                "upstream", ponder_serve(list(self.settings.upstream), self.ports["upstream"], [])
            )
            self._wait("upstream", "/ready")
            tiers = ["--tiers", "ladder-0.5b,ladder-1.5b"]
            models = proxy_models(self.url("upstream"), self.settings.timeout_s)
            self._start("ponder", ponder_serve(models, self.ports["ponder"], tiers))
            self._wait("ponder", "/ready")
            self._start("optillm", self._optillm_command(), self._optillm_env())
            self._wait("optillm", "/health")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _optillm_command(self) -> list[str]:
        if not self.settings.optillm_bin.is_file():
            raise ArmError(
                f"{self.settings.optillm_bin} not found: run bash benchmarks/peers_env.sh"
            )
        return [
            str(self.settings.optillm_bin),
            "--base-url", self.url("upstream"),
            "--host", "127.0.0.1",
            "--port", str(self.ports["optillm"]),
            "--best-of-n", str(self.settings.best_of_n),
            "--log", "warning",
        ]  # fmt: skip

    @staticmethod
    def _optillm_env() -> dict[str, str]:
        # OPTILLM_API_KEY would switch optillm to its own local inference: never set it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPTILLM_")}
        return {**env, "OPENAI_API_KEY": "sk-peers-benchmark"}  # any key; the upstream is open

    def _start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        )

    def _wait(self, name: str, route: str, limit_s: float = 300.0) -> None:
        """Until ``route`` answers 200; a server that exits or stays down is an error."""
        process = self.processes[-1]
        url = f"http://127.0.0.1:{self.ports[name]}{route}"
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ArmError(f"the {name} server exited: see {self.folder / (name + '.log')}")
            try:
                if self.client.get(url, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise ArmError(f"the {name} server was not ready in {limit_s:g}s")

    def close(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()
        self.client.close()
