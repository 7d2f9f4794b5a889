"""Smaller edges of the proxy, each driven over HTTP on loopback: /ready tells a client
without the key no model names, multi-prompt completions count every sample, bodies are
strict JSON, integral numbers are integers, ``ponder.context`` is as strict as the other
options, and the OpenAPI document lists the error responses and /metrics' text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import Counting, serving

pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
KEY = "sk-strict"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def counting() -> Counting:
    return Counting()


@pytest.fixture(scope="module")
def proxy(counting: Counting) -> Iterator[str]:
    models = {"fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake"), "c": counting}
    with serving(create_app(ServerConfig(models=models))) as url:
        yield url


def chat(model: str = "fake", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": QUESTION}], **extra}


def post(url: str, body: Any, path: str = "/v1/chat/completions") -> httpx.Response:
    if isinstance(body, bytes):
        headers = {"content-type": "application/json"}
        return httpx.post(url + path, content=body, headers=headers, timeout=30)
    return httpx.post(url + path, json=body, timeout=30)


def test_ready_without_the_key_names_no_model() -> None:
    models = {
        "fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake"),
        "internal-llama-70b": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="x"),
    }
    with serving(create_app(ServerConfig(models=models, api_keys=(KEY,)))) as url:
        anonymous = httpx.get(url + "/ready", timeout=30)
        assert anonymous.status_code == 200
        assert anonymous.json() == {"status": "ready"}
        assert "internal-llama-70b" not in anonymous.text and "fake" not in anonymous.text
        keyed = httpx.get(url + "/ready", headers=AUTH, timeout=30).json()
        assert keyed["models"] == {"fake": "ok", "internal-llama-70b": "ok"}
        wrong = httpx.get(url + "/ready", headers={"Authorization": "Bearer no"}, timeout=30)
        assert "models" not in wrong.json()


def test_a_multi_prompt_completion_reports_every_sample(proxy: str, counting: Counting) -> None:
    before = counting.samples
    body = {"model": "c", "prompt": [QUESTION, QUESTION], "ponder": {"strategy": "sc", "n": 4}}
    response = post(proxy, body, "/v1/completions")
    assert response.status_code == 200, response.text
    data = response.json()
    assert counting.samples - before == 8
    assert data["ponder"]["samples"] == 8
    assert data["ponder"]["requests"] >= 2
    assert [c["index"] for c in data["ponder"]["choices"]] == [0, 1]
    assert [c["index"] for c in data["choices"]] == [0, 1]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(proxy: str, constant: str) -> None:
    for field in ("temperature", "top_k"):
        body = (
            f'{{"model": "fake", "messages": [{{"role": "user", "content": "{QUESTION}"}}], '
            f'"{field}": {constant}}}'
        ).encode()
        response = post(proxy, body)
        assert response.status_code == 400, response.text
        assert constant.lstrip("-") in response.json()["error"]["message"]


def test_integral_numbers_are_integers(proxy: str, counting: Counting) -> None:
    before = counting.samples
    response = post(proxy, chat("c", n=2.0, max_tokens=16.0, ponder={"strategy": "sc", "n": 3.0}))
    assert response.status_code == 200, response.text
    assert counting.samples - before == 6
    assert post(proxy, chat("c", ponder={"n": 163.0})).status_code == 200
    for bad in (2.5, "2", True):
        refused = post(proxy, chat("c", ponder={"strategy": "sc", "n": bad}))
        assert refused.status_code == 400, (bad, refused.text)


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"reorder": False},
        {"token_budget": 0},
        {"token_budget": "100"},
        {"token_budget": 100.5},
        {"reorder": 1},
        {"truncate": "yes"},
        {"min_tokens": "8", "token_budget": 100},
        {"reorder": True, "order": "ends"},
    ],
)
def test_context_options_are_strict(proxy: str, context: dict[str, Any]) -> None:
    response = post(proxy, chat(ponder={"context": context}))
    assert response.status_code == 400, response.text
    assert "context" in response.json()["error"]["message"]


def test_context_takes_integral_numbers(proxy: str) -> None:
    response = post(proxy, chat(ponder={"context": {"token_budget": 100.0, "reorder": True}}))
    assert response.status_code == 200, response.text


def test_the_openapi_document_lists_errors_and_the_metrics_text(proxy: str) -> None:
    document = httpx.get(proxy + "/openapi.json", timeout=30).json()
    paths = document["paths"]
    for path in ("/v1/chat/completions", "/v1/completions"):
        responses = paths[path]["post"]["responses"]
        for status in ("400", "401", "404", "413", "429", "502", "503", "504"):
            assert status in responses, (path, status)
        schema = responses["400"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ErrorResponse")
    assert "ErrorResponse" in document["components"]["schemas"]
    assert "text/plain" in paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert "application/json" not in paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert "503" in paths["/ready"]["get"]["responses"]
    assert (
        "404" in paths["/v1/models"]["get"]["responses"]
        or "401" in (paths["/v1/models"]["get"]["responses"])
    )
