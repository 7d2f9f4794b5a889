"""Search strategies behind the proxy, and the reward scorer against a fake reward model
on loopback (both request shapes it supports)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from ponder.backends.scripted import ScriptedBackend
from ponder.errors import UpstreamError
from ponder.server import ServerConfig, create_app
from ponder.strategies import make_strategy
from ponder.strategies.beam import BeamOptions, BeamSearch
from ponder.strategies.reward import RewardScorer
from ponder.types import SamplingParams
from tests.server.fakes import serving

pytestmark = pytest.mark.server
Q = "Ana has 17 coins. A friend gives them 25 coins. How many coins does Ana have now?"


def model(prompt: str, params: SamplingParams, k: int) -> str:
    if "sure, likely or impossible" in prompt:
        return "impossible" if "= 32" in prompt else "sure"
    if "only the first step" in prompt:
        return "17 + 25 = 42" if k % 4 == 1 else "17 + 25 = 32"
    return "Answer: 42" if "= 42" in prompt else "Answer: 32"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ServerConfig(models={"fake": ScriptedBackend(model, model="fake")}))
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        yield http
    await lifespan.__aexit__(None, None, None)


def chat(model_name: str, **extra: Any) -> dict[str, Any]:
    return {"model": model_name, "messages": [{"role": "user", "content": Q}], **extra}


async def test_proxy_serves_tot_and_beam(client: httpx.AsyncClient) -> None:
    tot = (await client.post("/v1/chat/completions", json=chat("tot:k=4,b=1/fake"))).json()
    assert tot["ponder"]["strategy"] == "tot" and tot["ponder"]["answer"] == "42"
    options = {"n": 4, "width": 2, "scorer": "calc"}
    body = chat("fake", ponder={"strategy": "beam", "options": options})
    beam = (await client.post("/v1/chat/completions", json=body)).json()
    assert beam["ponder"]["strategy"] == "beam" and beam["ponder"]["answer"] == "42"
    assert beam["usage"]["completion_tokens"] > 0


async def test_requests_cannot_name_a_reward_endpoint_or_exceed_the_caps(
    client: httpx.AsyncClient,
) -> None:
    body = chat("fake", ponder={"strategy": "beam", "options": {"reward_url": "http://x"}})
    refused = await client.post("/v1/chat/completions", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "option_not_allowed"
    huge = chat("beam:n=64,depth=32/fake")
    over = await client.post("/v1/chat/completions", json=huge)
    assert over.status_code == 400 and over.json()["error"]["code"] == "work_over_cap"


def reward_app(received: list[dict[str, Any]]) -> FastAPI:
    """A fake PRM: a step is good (0.9) unless it states 17 + 25 = 32 (0.1)."""
    app = FastAPI()

    def good(step: str) -> float:
        return 0.1 if "= 32" in step else 0.9

    @app.post("/score")
    async def score(request: Request) -> dict[str, Any]:
        body = await request.json()
        received.append(body)
        return {"scores": [good(s) for s in body["steps"]]}

    @app.post("/pooling")
    async def pooling(request: Request) -> dict[str, Any]:
        body = await request.json()
        received.append(body)
        steps = body["input"].split("<extra_0>")[:-1]
        return {"data": [{"index": 0, "data": [[1 - good(s), good(s)] for s in steps]}]}

    @app.post("/broken")
    async def broken() -> dict[str, Any]:
        return {"nothing": True}

    return app


async def test_reward_scorer_on_loopback_in_both_shapes() -> None:
    received: list[dict[str, Any]] = []
    with serving(reward_app(received)) as base:
        for scorer in (
            RewardScorer(f"{base}/score"),
            RewardScorer(f"{base}/pooling", shape="vllm", model="prm"),
        ):
            beam = BeamSearch(BeamOptions(n=4, width=2), scorer=scorer)
            result = await beam.solve(Q, ScriptedBackend(model))
            assert result.answer == "42"
        spec = f"bon:n=4,scorer=reward,reward_url={base}/score"
        outputs = ["17 + 25 = 32\n\nAnswer: 32"] * 3 + ["17 + 25 = 42\n\nAnswer: 42"]
        picked = await make_strategy(spec).solve(Q, ScriptedBackend({Q: outputs}))
        assert picked.answer == "42"
        with pytest.raises(UpstreamError, match="expected"):
            bad = make_strategy(f"bon:n=2,scorer=reward,reward_url={base}/broken")
            await bad.solve(Q, ScriptedBackend({Q: outputs}))
    assert received[0] == {"question": Q, "steps": [received[0]["steps"][0]]}
    assert any(b.get("model") == "prm" and b["input"].startswith(Q) for b in received)


async def test_a_beam_wider_than_its_beams_counts_its_width_against_the_caps(
    client: httpx.AsyncClient,
) -> None:
    # 16 children a level for 32 levels, 7 answers: about 3,500 samples, over the cap
    wide = chat("beam:n=1,width=16,depth=32/fake", n=7)
    over = await client.post("/v1/chat/completions", json=wide)
    assert over.status_code == 400 and over.json()["error"]["code"] == "work_over_cap"


@pytest.mark.parametrize("threshold", ["inf", "1e400", "nan"])
async def test_an_infinite_or_nan_option_is_a_400_naming_it(
    client: httpx.AsyncClient, threshold: str
) -> None:
    for body in (
        chat(f"sc:n=4,stop=margin,threshold={threshold}/fake"),
        chat(
            "fake", ponder={"strategy": "sc", "options": {"stop": "margin", "threshold": threshold}}
        ),
    ):
        refused = await client.post("/v1/chat/completions", json=body)
        assert refused.status_code == 400, refused.text
        assert "threshold" in refused.json()["error"]["message"]
