"""``extra_body.ponder.context``: the proxy reorders and packs a RAG request's documents
before it goes upstream, for pass-through and strategies alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ponder.backends.scripted import ScriptedBackend
from ponder.server import ServerConfig, create_app
from tests.server.fakes import Upstream, fake_upstream, serving

pytestmark = pytest.mark.server
QUESTION = "Which town hosts the fair?"


def documents(count: int) -> str:
    blocks = "\n".join(
        f'<document index="{i}">Fact {i}: ' + "word " * 40 + "</document>"
        for i in range(1, count + 1)
    )
    return f"Answer from these.\n<documents>\n{blocks}\n</documents>\nQuestion: {QUESTION}"


def order(text: str) -> list[int]:
    return [int(i) for i in re.findall(r'<document index="(\d+)">', text)]


@pytest.fixture(scope="module")
def proxy() -> Iterator[tuple[str, Upstream]]:
    record = Upstream()
    with serving(fake_upstream(record)) as up:
        models = {
            "up": f"openai:{up}/v1#fake?retries=0",
            "fake": ScriptedBackend(lambda question, params, k: "Answer: 7", model="fake"),
        }
        with serving(create_app(ServerConfig(models=models))) as url:
            yield url, record


def chat(model: str, context: dict[str, Any] | None, count: int = 7) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": documents(count)}],
    }
    if context is not None:
        body["ponder"] = {"context": context}
    return body


def test_pass_through_sends_the_documents_reordered(proxy: tuple[str, Upstream]) -> None:
    url, upstream = proxy
    response = httpx.post(f"{url}/v1/chat/completions", json=chat("up", {"reorder": True}))
    assert response.status_code == 200, response.text
    sent = upstream.bodies[-1]["messages"][0]["content"]
    assert order(sent) == [1, 3, 5, 7, 6, 4, 2]
    assert "ponder" not in upstream.bodies[-1]
    report = response.json()["ponder"]["context"]
    assert report["documents"] == 7 and report["order"] == "ends"


def test_a_budget_drops_the_least_relevant(proxy: tuple[str, Upstream]) -> None:
    url, upstream = proxy
    body = chat("up", {"token_budget": 150})
    assert httpx.post(f"{url}/v1/chat/completions", json=body).status_code == 200
    kept = order(upstream.bodies[-1]["messages"][0]["content"])
    assert kept and kept == sorted(kept) and len(kept) < 7 and kept[0] == 1


def test_strategies_see_the_reordered_documents(proxy: tuple[str, Upstream]) -> None:
    url, _ = proxy
    body = chat("sc/fake", {"reorder": "recency"})
    body["ponder"]["n"] = 2
    response = httpx.post(f"{url}/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["ponder"]["context"]["order"] == "recency"
    assert response.json()["ponder"]["answer"] == "7"


@pytest.mark.parametrize("context", [{"reorder": "sideways"}, {"token_budget": -1}, {"x": 1}])
def test_bad_context_options_are_400(proxy: tuple[str, Upstream], context: Any) -> None:
    url, upstream = proxy
    before = len(upstream.bodies)
    response = httpx.post(f"{url}/v1/chat/completions", json=chat("up", context))
    assert response.status_code == 400, response.text
    assert "context" in response.json()["error"]["message"]
    assert len(upstream.bodies) == before


def test_without_documents_the_request_passes_unchanged(proxy: tuple[str, Upstream]) -> None:
    url, upstream = proxy
    body = {
        "model": "up",
        "messages": [{"role": "user", "content": "hello"}],
        "ponder": {"context": {"reorder": True}},
    }
    response = httpx.post(f"{url}/v1/chat/completions", json=body)
    assert response.status_code == 200
    assert upstream.bodies[-1]["messages"] == [{"role": "user", "content": "hello"}]
    assert response.json()["ponder"]["context"]["documents"] == 0


def test_legacy_completions_refuse_context(proxy: tuple[str, Upstream]) -> None:
    url, _ = proxy
    body = {"model": "up", "prompt": documents(3), "ponder": {"context": {"reorder": True}}}
    response = httpx.post(f"{url}/v1/completions", json=body)
    assert response.status_code == 400 and "chat" in response.json()["error"]["message"]
