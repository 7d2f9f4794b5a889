"""The work bound on pass-through requests counts the completion length the upstream
will actually use: a request without ``max_tokens`` counts as the operator's ceiling
(or the upstream default the operator declared), and length fields the proxy does not
bound (``n_predict``, ``num_predict``, ``min_tokens``, ``ignore_eos``, ...) are refused
before anything goes upstream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ponder.server import ServerConfig, create_app
from tests.server.fakes import Upstream, serving

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def proxy(upstream: tuple[str, Upstream]) -> Iterator[str]:
    base, _ = upstream
    config = ServerConfig(models={"up": f"openai:{base}#fake?retries=0"})
    with serving(create_app(config)) as url:
        yield url


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "up", "messages": [{"role": "user", "content": "Hi"}], **extra}


def post(url: str, body: dict[str, Any], path: str = "/v1/chat/completions") -> httpx.Response:
    return httpx.post(url + path, json=body, timeout=30)


def refused_before_upstream(
    response: httpx.Response, record: Upstream, before: int, naming: str
) -> None:
    assert response.status_code == 400, response.text
    assert naming in response.json()["error"]["message"], response.text
    assert len(record.bodies) == before


def test_a_request_without_max_tokens_counts_as_the_ceiling(
    proxy: str, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    before = len(record.bodies)
    refused_before_upstream(post(proxy, chat(n=128)), record, before, "max_tokens")
    refused_before_upstream(post(proxy, chat(n=2, stream=True)), record, before, "max_tokens")
    assert post(proxy, chat()).status_code == 200  # one answer at the ceiling fits
    assert post(proxy, chat(n=4, max_tokens=100)).status_code == 200


def test_the_larger_of_max_tokens_and_max_completion_tokens_counts(
    proxy: str, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    before = len(record.bodies)
    body = chat(n=2, max_tokens=600_000, max_completion_tokens=1)
    refused_before_upstream(post(proxy, body), record, before, "work")


@pytest.mark.parametrize(
    "fields",
    [
        {"n_predict": 100_000},
        {"n_cmpl": 8},
        {"num_predict": -1},
        {"min_tokens": 100_000},
        {"ignore_eos": True},
        {"max_new_tokens": 100_000},
        {"best_of": 64},
        {"options": {"num_predict": 100_000}},
    ],
    ids=lambda fields: "-".join(fields),
)
def test_length_fields_the_proxy_does_not_bound_are_refused(
    proxy: str, upstream: tuple[str, Upstream], fields: dict[str, Any]
) -> None:
    _, record = upstream
    before = len(record.bodies)
    name = next(iter(fields))
    chat_body = chat(max_tokens=1, **fields)
    refused_before_upstream(post(proxy, chat_body), record, before, name)
    streamed = chat(max_tokens=1, stream=True, **fields)
    refused_before_upstream(post(proxy, streamed), record, before, name)
    legacy = {"model": "up", "prompt": "Hi", "max_tokens": 1, **fields}
    refused_before_upstream(post(proxy, legacy, "/v1/completions"), record, before, name)


def test_harmless_upstream_fields_still_pass_through(
    proxy: str, upstream: tuple[str, Upstream]
) -> None:
    _, record = upstream
    body = chat(max_tokens=5, top_k=20, repetition_penalty=1.1, skip_special_tokens=False)
    assert post(proxy, body).status_code == 200
    sent = record.bodies[-1]
    assert sent["top_k"] == 20 and sent["repetition_penalty"] == 1.1
    assert sent["skip_special_tokens"] is False


def test_a_declared_upstream_default_counts_instead_of_the_ceiling(
    upstream: tuple[str, Upstream],
) -> None:
    base, record = upstream
    models = {"up": f"openai:{base}#fake?retries=0"}
    declared = ServerConfig(models=models, upstream_max_tokens=2048)
    with serving(create_app(declared)) as url:
        assert post(url, chat(n=128)).status_code == 200
    tight = ServerConfig(models=models, upstream_max_tokens=2048, max_request_tokens=100_000)
    with serving(create_app(tight)) as url:
        before = len(record.bodies)
        refused_before_upstream(post(url, chat(n=64)), record, before, "work")
        assert post(url, chat(n=64, max_tokens=1000)).status_code == 200
