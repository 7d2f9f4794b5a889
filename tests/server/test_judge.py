"""A request cannot name a judge: ``judge=`` names a backend, which only the operator's
configuration does. Over HTTP on loopback: every way a request could set it is a 400
that says so, and the named backend is never built; the scorers that name nothing
(``crosscheck`` on the served model's own programs) stay open to requests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ponder.backends import register_backend
from ponder.backends.base import Backend
from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from ponder.types import SamplingParams
from tests.server.fakes import serving

pytestmark = pytest.mark.server
Q = "Tom has 12 apples and buys 5 more. How many apples does he have?"
BUILT: list[str] = []


def canary(target: str, options: dict[str, str]) -> Backend:
    BUILT.append(target)
    return ScriptedBackend(["9"])


register_backend("judgecanary", canary)


def model(prompt: str, params: SamplingParams, k: int) -> str:
    if "Python program" in prompt:
        return "```python\nanswer = 12 + 5\n```"
    return ["12 + 5 = 18. Answer: 18", "12 + 5 = 17. Answer: 17"][k % 2]


def chat(model_name: str, **extra: Any) -> dict[str, Any]:
    return {"model": model_name, "messages": [{"role": "user", "content": Q}], **extra}


def test_a_request_naming_a_judge_is_refused_and_nothing_is_built() -> None:
    app = create_app(ServerConfig(models={"fake": ScriptedBackend(model, model="fake")}))
    named = "judgecanary:big"
    attempts = [
        (chat("fake", ponder={"strategy": f"bon:scorer=judge,judge={named}"}), "strategy"),
        (
            chat(
                "fake", ponder={"strategy": "bon", "options": {"scorer": "judge", "judge": named}}
            ),
            "options",
        ),
        (chat(f"bon:scorer=crosscheck,judge={named}/fake"), "strategy"),
        (chat("fake", ponder={"strategy": "tot", "options": {"judge": named}}), "options"),
    ]
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        for body, where in attempts:
            refused = http.post("/v1/chat/completions", json=body)
            assert refused.status_code == 400, refused.text
            error = refused.json()["error"]
            assert error["code"] == "option_not_allowed"
            assert error["param"] == f"ponder.{where}.judge"
            assert "operator" in error["message"] and named not in error["message"]
        served = http.post("/v1/chat/completions", json=chat("bon:n=3,scorer=crosscheck/fake"))
    assert served.status_code == 200, served.text
    assert served.json()["ponder"]["answer"] == "17"
    assert BUILT == []
