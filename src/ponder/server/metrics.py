"""Prometheus metrics of one app, in a registry of its own.

Label values come from closed sets so that no client can grow them: the served
model ids (else ``other``), the registered strategy names plus ``none`` for a
pass-through (else ``other``), the routed endpoints (else ``other``) and the
HTTP status codes the server answers with.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ponder.strategies import strategy_names

ENDPOINTS = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/models",
    "/health",
    "/ready",
    "/metrics",
)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
PASS_THROUGH = "none"


class Metrics:
    def __init__(self, model_ids: Iterable[str]) -> None:
        self.registry = CollectorRegistry()
        self._models = set(model_ids)
        self._strategies = {*strategy_names(), PASS_THROUGH}
        r = self.registry
        self.requests = Counter(
            "ponder_requests",
            "HTTP requests answered",
            ["endpoint", "model", "strategy", "status"],
            registry=r,
        )
        self.errors = Counter(
            "ponder_errors", "requests answered with an error", ["endpoint", "type"], registry=r
        )
        self.latency = Histogram(
            "ponder_request_seconds",
            "time to the end of the response",
            ["endpoint", "strategy"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter(
            "ponder_tokens", "tokens spent upstream", ["model", "strategy", "kind"], registry=r
        )
        self.samples = Counter(
            "ponder_samples", "samples drawn by strategies", ["model", "strategy"], registry=r
        )
        self.upstream_requests = Counter(
            "ponder_upstream_requests",
            "requests sent to backends",
            ["model", "strategy"],
            registry=r,
        )
        self.in_flight = Gauge("ponder_in_flight", "requests running", registry=r)
        self.queued = Gauge("ponder_queued", "requests waiting for a slot", registry=r)

    def model_label(self, model: str | None) -> str:
        return model if model in self._models else "other"

    def strategy_label(self, strategy: str | None) -> str:
        if strategy is None:
            return PASS_THROUGH
        return strategy if strategy in self._strategies else "other"

    def observe_request(
        self, path: str, model: str | None, strategy: str | None, status: int, seconds: float
    ) -> None:
        endpoint = path if path in ENDPOINTS else "other"
        strategy_label = self.strategy_label(strategy)
        self.requests.labels(endpoint, self.model_label(model), strategy_label, str(status)).inc()
        self.latency.labels(endpoint, strategy_label).observe(seconds)

    def observe_error(self, path: str, error_type: str) -> None:
        self.errors.labels(path if path in ENDPOINTS else "other", error_type).inc()

    def observe_usage(
        self,
        model: str,
        strategy: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        samples: int = 0,
        requests: int = 1,
    ) -> None:
        labels = (self.model_label(model), self.strategy_label(strategy))
        self.tokens.labels(*labels, "prompt").inc(prompt_tokens)
        self.tokens.labels(*labels, "completion").inc(completion_tokens)
        if samples:
            self.samples.labels(*labels).inc(samples)
        self.upstream_requests.labels(*labels).inc(requests)

    def render(self) -> bytes:
        return generate_latest(self.registry)
