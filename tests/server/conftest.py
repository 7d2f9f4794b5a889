"""The proxy's fixtures: a recording fake OpenAI upstream on loopback, per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.fakes import Upstream, fake_upstream, serving


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[str, Upstream]]:
    record = Upstream()
    with serving(fake_upstream(record)) as url:
        yield f"{url}/v1", record
