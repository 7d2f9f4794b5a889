"""The proxy's trust boundary, attacked over HTTP on loopback as an untrusted client would.

Only the operator's configuration may name a backend, a file, a URL or an environment
variable; a request picks among what the operator configured, within caps, and its
total work is bounded before the first model call. Canaries: a listener that must
receive no connection, a file that must never be opened, an environment variable
whose value must never leave the process.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import Counting, serving

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
SECRET = "canary-secret-0c5d9e"
_OPENED: list[str] = []
_WATCHED: set[str] = set()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.fsdecode(args[0])
        if path in _WATCHED:
            _OPENED.append(path)
    elif event == "subprocess.Popen":
        _OPENED.append(f"subprocess:{args[0]}")


sys.addaudithook(_audit)


class Listener:
    """A TCP listener on loopback that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(65536))
            except OSError:
                self.received.append(b"")
            conn.close()

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.close()


@pytest.fixture
def canary_file(tmp_path: Path) -> Iterator[str]:
    path = tmp_path / "canary.json"
    path.write_text(json.dumps({QUESTION: [SECRET]}), encoding="utf-8")
    _WATCHED.add(str(path))
    _OPENED.clear()
    yield str(path)
    _WATCHED.discard(str(path))


@pytest.fixture
def counting() -> Counting:
    return Counting()


@pytest.fixture
def proxy(counting: Counting, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CANARY_SECRET", SECRET)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    models = {"fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake"), "c": counting}
    with serving(create_app(ServerConfig(models=models))) as url:
        yield url


def ask(url: str, body: dict[str, Any], path: str = "/v1/chat/completions") -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=30)


def chat(model: str = "fake", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": QUESTION}], **extra}


def refused(response: httpx.Response, status: int = 400, naming: str | None = None) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    if naming is not None:
        assert naming in message, message
    assert SECRET not in response.text
    return message


def tiers(listener: Listener, extra: str = "") -> str:
    return f"x|openai:http://127.0.0.1:{listener.port}/v1#m{extra}"


@pytest.mark.parametrize(
    "ponder",
    [
        {"strategy": "auto", "options": {"tiers": "TIERS?key_env=CANARY_SECRET", "plan": "cot@1"}},
        {"strategy": "auto", "options": {"tiers": "TIERS", "plan": "cot@1"}},
        {"strategy": "auto:tiers=TIERS,plan=cot@1"},
    ],
)
def test_a_request_cannot_name_a_url(proxy: str, listener: Listener, ponder: Any) -> None:
    text = json.dumps(ponder).replace("TIERS", tiers(listener))
    response = ask(proxy, chat(ponder=json.loads(text)))
    refused(response, naming="tiers")
    time.sleep(0.2)
    assert listener.received == []


def test_a_closed_port_and_an_open_one_answer_alike(proxy: str, listener: Listener) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    answers = []
    for target in (listener.port, port):
        spec = f"x|openai:http://127.0.0.1:{target}/v1#m"
        body = chat(ponder={"strategy": "auto", "options": {"tiers": spec, "plan": "cot@1"}})
        answers.append(ask(proxy, body).json())
    assert answers[0] == answers[1]


@pytest.mark.parametrize("option", ["tiers", "router"])
def test_a_request_cannot_read_a_file(proxy: str, canary_file: str, option: str) -> None:
    value = f"x|scripted:{canary_file}" if option == "tiers" else canary_file
    response = ask(proxy, chat(ponder={"strategy": "auto", "options": {option: value}}))
    refused(response, naming=option)
    missing = ask(proxy, chat(ponder={"strategy": "auto", "options": {option: "/nope/x.json"}}))
    assert (missing.status_code, missing.json()) == (400, response.json())
    assert _OPENED == []


def test_a_router_in_the_model_prefix_is_refused(proxy: str, canary_file: str) -> None:
    name = Path(canary_file).name
    response = ask(proxy, chat(model=f"auto:router={name}/fake"))
    assert response.status_code in (400, 404), response.text
    assert _OPENED == []


def test_a_request_cannot_load_a_model(proxy: str) -> None:
    _OPENED.clear()
    spec = "x|embedded:smollm2-135m?slots=8&ctx=4096"
    response = ask(proxy, chat(ponder={"strategy": "auto", "options": {"tiers": spec}}))
    refused(response, naming="tiers")
    unknown = ask(proxy, chat(ponder={"strategy": "auto", "options": {"tiers": "x|tinyllama"}}))
    refused(unknown, naming="tiers")
    assert not [o for o in _OPENED if o.startswith("subprocess")]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/completions",
            {"model": "c", "prompt": [QUESTION] * 1000, "n": 128, "ponder": {"n": 256}},
        ),
        ("/v1/chat/completions", chat("c", n=128, ponder={"strategy": "sc", "n": 256})),
        (
            "/v1/chat/completions",
            chat("c", n=128, ponder={"strategy": "sc", "n": 256, "options": {"wave": 1}}),
        ),
        (
            "/v1/chat/completions",
            chat("c", max_tokens=30_000, ponder={"strategy": "sc", "n": 64}),
        ),
    ],
)
def test_work_beyond_the_cap_is_refused_before_any_model_call(
    proxy: str, counting: Counting, path: str, body: dict[str, Any]
) -> None:
    started = time.perf_counter()
    response = ask(proxy, body, path)
    refused(response, naming="work")
    assert counting.samples == 0
    assert time.perf_counter() - started < 10  # refused up front, not after the work


def test_a_long_plan_is_refused(proxy: str, counting: Counting) -> None:
    plan = " > ".join(["g+8@0"] * 200)
    response = ask(proxy, chat("c", ponder={"strategy": "auto", "options": {"plan": plan}}))
    refused(response, naming="plan")
    assert counting.samples == 0


def test_health_stays_fast_during_an_amplification_attempt(proxy: str) -> None:
    body = {"model": "c", "prompt": [QUESTION] * 1000, "n": 128, "ponder": {"n": 256}}
    worst = 0.0
    done = threading.Event()

    def attack() -> None:
        for _ in range(5):
            ask(proxy, body, "/v1/completions")
        done.set()

    thread = threading.Thread(target=attack)
    thread.start()
    while not done.is_set():
        started = time.perf_counter()
        assert httpx.get(proxy + "/health", timeout=10).status_code == 200
        worst = max(worst, time.perf_counter() - started)
    thread.join()
    assert worst < 2.0  # before the fix /health stalled for minutes


def test_work_within_the_cap_is_served(proxy: str, counting: Counting) -> None:
    response = ask(proxy, chat("c", n=2, ponder={"strategy": "sc", "n": 4}))
    assert response.status_code == 200, response.text
    assert counting.samples == 8


def test_numeric_options_stay_open_to_requests(proxy: str) -> None:
    body = chat(ponder={"strategy": "sc:n=3,stop=esc", "options": {"weighted": True, "wave": 2}})
    response = ask(proxy, body)
    assert response.status_code == 200, response.text
    bad = ask(proxy, chat(ponder={"strategy": "sc", "options": {"stop": "../../etc"}}))
    refused(bad, naming="stop")


def test_the_operators_caps_apply(counting: Counting) -> None:
    config = ServerConfig(models={"c": counting}, max_request_samples=10)
    with serving(create_app(config)) as url:
        refused(ask(url, chat("c", ponder={"strategy": "sc", "n": 11})), naming="work")
        assert ask(url, chat("c", ponder={"strategy": "sc", "n": 10})).status_code == 200


def test_a_body_over_the_limit_is_413(counting: Counting) -> None:
    config = ServerConfig(models={"c": counting}, max_body_bytes=100_000)
    with serving(create_app(config)) as url:
        big = chat("c", messages=[{"role": "user", "content": "x" * 200_000}])
        response = httpx.post(url + "/v1/chat/completions", json=big, timeout=30)
        assert response.status_code == 413, response.text
        assert response.json()["error"]["message"]
        # a body sent without a length (chunked) is cut off at the limit too
        data = json.dumps(big).encode()
        chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
        chunked = httpx.post(url + "/v1/chat/completions", content=chunks, timeout=30)
        assert chunked.status_code == 413, chunked.text
    assert counting.samples == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"model": "fake", "messages": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        json.dumps(chat(temperature=0)).replace(QUESTION, "\\ud800").encode(),
        json.dumps(
            {
                "model": "fake",
                "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}],
            }
        ).encode(),
    ],
    ids=["deep", "surrogate", "text-not-a-string"],
)
def test_hostile_bodies_are_400_not_500(proxy: str, body: bytes) -> None:
    response = httpx.post(
        proxy + "/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert "Traceback" not in response.text


def test_auto_escalates_over_the_operators_tiers(tmp_path: Path) -> None:
    from ponder.routing import FEATURES, Router, parse_plan
    from ponder.routing.router import PlanModel

    plan = PlanModel(parse_plan("g+2@0 > cot@1"), [0.0] * len(FEATURES), 0.0, 4.0)
    router = tmp_path / "router.json"
    Router([plan], [0.0] * len(FEATURES), [1.0] * len(FEATURES)).save(router)
    small = ScriptedBackend({QUESTION: ["Answer: 41", "Answer: 40", "Answer: 39"]}, model="s")
    big = Counting()
    config = ServerConfig(
        models={"small": small, "big": big}, tiers=("small", "big"), router=str(router)
    )
    with serving(create_app(config)) as url:
        response = ask(url, chat("auto/small"))
        assert response.status_code == 200, response.text
        assert response.json()["ponder"]["answer"] == "42"
        assert big.samples == 1
        # on the strongest tier there is nothing to escalate to
        assert ask(url, chat("auto/big")).status_code == 200
    with pytest.raises(Exception, match="not a served model"):
        ServerConfig(models={"small": small}, tiers=("small", "nope"))


@pytest.mark.slow
def test_sigterm_drains_and_exits(tmp_path: Path) -> None:
    import signal
    import subprocess

    script = tmp_path / "script.json"
    script.write_text(json.dumps({QUESTION: ["Answer: 42"]}), encoding="utf-8")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    command = [sys.executable, "-m", "ponder.cli.main", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--model", f"scripted:{script}", "--log-format", "json"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("ponder serve did not start")
            time.sleep(0.1)
        body = {"model": "script", "prompt": [QUESTION] * 1000, "n": 128, "ponder": {"n": 256}}
        assert ask(url, body, "/v1/completions").status_code == 400
        assert ask(url, chat("sc/script", ponder={"n": 3})).status_code == 200
        process.send_signal(signal.SIGTERM)
        # uvicorn drains, then re-raises the signal it caught (exit by SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
    finally:
        if process.poll() is None:
            process.kill()
        _, errors = process.communicate(timeout=10)
    assert "Finished server process" in errors


@pytest.mark.parametrize("field", [{"n": 4}, {"early_stop": "anything"}])
def test_ponder_n_and_early_stop_pass_the_same_allow_list(
    proxy: str, field: dict[str, Any]
) -> None:
    """``ponder.n`` and ``ponder.early_stop`` set the strategy's ``n`` and ``stop``: only
    where a request may set those options, like every other request option."""
    body = chat(ponder={"strategy": "direct", **field})
    message = refused(ask(proxy, body), naming="direct")
    assert "option" in message
