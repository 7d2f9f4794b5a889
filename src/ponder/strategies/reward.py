"""A reward or process reward model (PRM) behind HTTP, as a scorer.

Two request shapes, chosen by ``shape``:

* ``ponder`` (any small service in front of a reward model)::

      POST {url}  {"question": "...", "steps": ["step 1", "step 2", ...]}
      ->          {"scores": [0.9, 0.4, ...]}      one score per step
              or  {"score": 0.7}                   one score for the whole solution

* ``vllm`` (vLLM's ``/pooling`` endpoint serving a PRM with a step-tag pooler, such as
  Qwen2.5-Math-PRM-7B, whose step tag is ``<extra_0>``)::

      POST {url}  {"model": "...", "input": "question\\n\\nstep 1<extra_0>step 2<extra_0>"}
      ->          {"data": [{"data": [[p_bad, p_good], [p_bad, p_good], ...]}]}

  each row is one step; its score is the last column (the "good" probability).

A solution's steps are its paragraphs (split at blank lines). A sample scores its
``aggregate`` of step scores: ``min`` (the default: a solution is as good as its
worst step), ``last`` or ``prod``.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import httpx

from ponder.backends.base import Backend
from ponder.errors import BackendUnavailableError, ConfigError, UpstreamError
from ponder.strategies.base import Work
from ponder.strategies.scored import Scored
from ponder.types import Sample

Aggregate = Literal["last", "min", "prod"]


def aggregate(scores: list[float], how: str) -> float:
    if not scores:
        return 0.0
    if how == "min":
        return min(scores)
    if how == "prod":
        return math.prod(scores)
    return scores[-1]


def split_steps(text: str, boundary: str = "\n\n") -> list[str]:
    return [s.strip() for s in text.split(boundary) if s.strip()] or [text.strip()]


class RewardScorer:
    """Scores each sample with one POST to a reward endpoint; no tokens of ours are spent
    (the endpoint's own compute is the operator's to price)."""

    name = "reward"

    def __init__(
        self,
        url: str,
        *,
        shape: Literal["ponder", "vllm"] = "ponder",
        model: str = "",
        step_tag: str = "<extra_0>",
        how: Aggregate = "min",
        timeout_s: float = 30.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"the reward endpoint must be an http(s) URL, got {url!r:.60}")
        self.url, self.shape, self.model = url, shape, model
        self.step_tag, self.how, self.timeout_s = step_tag, how, timeout_s

    def work(self, candidates: int) -> Work:
        return Work(0, 0)

    def body(self, question: str, steps: list[str]) -> dict[str, Any]:
        if self.shape == "vllm":
            text = f"{question}\n\n" + "".join(f"{s}{self.step_tag}" for s in steps)
            return {"model": self.model, "input": text}
        return {"question": question, "steps": steps}

    def step_scores(self, reply: Any, steps: int) -> list[float]:
        try:
            if self.shape == "vllm":
                rows = reply["data"][0]["data"]
                return [float(row[-1]) for row in rows]
            if "scores" in reply:
                return [float(x) for x in reply["scores"]]
            return [float(reply["score"])]
        except (KeyError, IndexError, TypeError, ValueError):
            raise UpstreamError(
                f"the reward endpoint {self.url} answered {str(reply)[:80]!r}: expected "
                + ("vLLM pooling data" if self.shape == "vllm" else '{"scores": [...]}')
            ) from None

    async def score(self, question: str, samples: list[Sample], backend: Backend) -> Scored:
        scores = []
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            for sample in samples:
                steps = split_steps(sample.text)
                reply = await self._post(client, self.body(question, steps))
                scores.append(aggregate(self.step_scores(reply, len(steps)), self.how))
        return Scored(scores)

    async def _post(self, client: httpx.AsyncClient, body: dict[str, Any]) -> Any:
        try:
            response = await client.post(self.url, json=body)
        except httpx.HTTPError as exc:
            raise BackendUnavailableError(
                f"the reward endpoint {self.url} is unreachable: {exc}"
            ) from None
        if response.status_code != 200:
            raise UpstreamError(
                f"the reward endpoint {self.url} answered HTTP {response.status_code}"
            )
        try:
            return response.json()
        except ValueError:
            raise UpstreamError(f"the reward endpoint {self.url} did not answer JSON") from None
