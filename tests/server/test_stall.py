"""No single request stalls the proxy: the text processing of request content is linear
(counted in steps, not timed) and runs off the event loop, so /health answers while a
hostile ``ponder.context`` request is being read."""

from __future__ import annotations

import importlib
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ponder.backends.scripted import ScriptedBackend
from ponder.context import tokens
from ponder.context.apply import Scan, find_blocks
from ponder.server import ServerConfig, create_app
from ponder.server import errors as server_errors
from tests.server.fakes import serving


def _sre(new: str, old: str) -> Any:
    """The regex parser's modules (``re._parser`` from Python 3.11, ``sre_parse`` before)."""
    return importlib.import_module(new if sys.version_info >= (3, 11) else old)


sre_compile = _sre("re._compiler", "sre_compile")
sre_constants = _sre("re._constants", "sre_constants")
sre_parse = _sre("re._parser", "sre_parse")
pytestmark = pytest.mark.server
QUESTION = "What is 6 times 7?"
# The pattern the proxy used before: quadratic on unclosed tags. Kept here as the
# reference the scanner must agree with on small inputs.
OLD_BLOCK = re.compile(r"(<document\b[^>]*>)(.*?)(</document\s*>)", re.IGNORECASE | re.DOTALL)


@pytest.fixture(scope="module")
def proxy() -> Iterator[str]:
    models = {"fake": ScriptedBackend({QUESTION: ["Answer: 42"]}, model="fake")}
    with serving(create_app(ServerConfig(models=models))) as url:
        yield url


def context_request(content: str) -> dict[str, Any]:
    return {
        "model": "fake",
        "messages": [{"role": "user", "content": content}],
        "ponder": {"context": {"reorder": True}},
    }


def test_health_answers_while_unclosed_document_tags_are_read(proxy: str) -> None:
    # 6,000 unclosed tags (60 KB) took about two seconds each on the backtracking
    # pattern, on the event loop: /health waited for all of it.
    body = context_request("<document>" * 6000)
    statuses: list[int] = []

    def attack() -> None:
        for _ in range(3):
            response = httpx.post(proxy + "/v1/chat/completions", json=body, timeout=120)
            statuses.append(response.status_code)

    thread = threading.Thread(target=attack)
    thread.start()
    time.sleep(0.1)
    worst = 0.0
    while True:
        started = time.perf_counter()
        assert httpx.get(proxy + "/health", timeout=120).status_code == 200
        worst = max(worst, time.perf_counter() - started)
        if not thread.is_alive():
            break
        time.sleep(0.02)
    thread.join()
    assert statuses == [200, 200, 200]
    assert worst < 0.2


def test_a_large_context_request_is_answered(proxy: str) -> None:
    blocks = "\n".join(f"<document index={i}>{'word ' * 200}</document>" for i in range(900))
    body = context_request(f"Read.\n{blocks}\n{QUESTION}")
    body["ponder"]["context"]["token_budget"] = 5000
    response = httpx.post(proxy + "/v1/chat/completions", json=body, timeout=120)
    assert response.status_code == 200, response.text
    report = response.json()["ponder"]["context"]
    assert report["documents"] == 900 and report["tokens_after"] <= 5000


HOSTILE = [
    "<document>",
    "<document",
    "<DOCUMENT x='<document'",
    "<documentx>",
    "</document",
    "</document   x",
    "<document>a</document>\n",
    "<document><document>a</document >",
]


@pytest.mark.parametrize("unit", HOSTILE)
def test_the_document_scan_is_one_pass(unit: str) -> None:
    """The scan's searches pass over each character a bounded number of times."""
    ratios = []
    for repeats in (500, 2000, 8000, 32000):
        for text in (unit * repeats, "<document>" + unit * repeats, unit * repeats + "</document>"):
            scan = Scan(text)
            scan.blocks()
            ratios.append(scan.steps / (len(text) + 1))
    assert max(ratios) <= 2.0 + 1e-9  # one case fold plus one left-to-right pass


FRAGMENTS = st.sampled_from(
    [
        "<document",
        "<DOCUMENT",
        "</document",
        "</Document",
        ">",
        " ",
        "\n",
        "\t",
        "x",
        "é",
        "_",
        "1",
        "s",
        "<",
        "/",
        "index=1",
        "\u00a0",
        "\u2003",
    ]
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(FRAGMENTS, max_size=24).map("".join))
def test_the_scan_finds_what_the_old_pattern_found(text: str) -> None:
    expected = [(m.start(), m.end(1), m.start(3), m.end()) for m in OLD_BLOCK.finditer(text)]
    found = [(b.start, b.inner_start, b.inner_end, b.end) for b in find_blocks(text)]
    assert found == expected


# Patterns applied to client text on the server path. Each must be linear for finditer:
# its only unbounded repeats are of a single character class and either end their
# branch (nothing after them can fail, so the match succeeds and consumes what was
# scanned) or follow a negative lookbehind over the same characters (no attempt starts
# inside a run another attempt scanned). Repeats of groups and nested groups fail.
CLIENT_TEXT_PATTERNS = {
    "context.tokens estimate": tokens._ESTIMATE,
    "server.errors URL": server_errors._URL,
}
SINGLE = (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY)
REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
Item = tuple[Any, Any]


def _branches(pattern: re.Pattern[str]) -> list[list[Item]]:
    parsed = list(sre_parse.parse(pattern.pattern, pattern.flags))
    if len(parsed) == 1 and parsed[0][0] == sre_constants.BRANCH:
        return [list(branch) for branch in parsed[0][1][1]]
    return [parsed]


def _linear(branch: list[Item], flags: int) -> bool:
    guard = None
    if branch and branch[0][0] == sre_constants.ASSERT_NOT and branch[0][1][0] == -1:
        guard = list(branch[0][1][1])
    for index, (op, value) in enumerate(branch):
        if op in REPEATS:
            _, high, body = value
            if len(body) != 1 or body[0][0] not in SINGLE:
                return False
            unbounded = high == sre_constants.MAXREPEAT
            last = index == len(branch) - 1
            if unbounded and not last and not _guarded(guard, [body[0], *branch[1:index]], flags):
                return False
        elif op not in (*SINGLE, sre_constants.AT) and not (index == 0 and guard is not None):
            return False
    return True


def _guarded(guard: list[Item] | None, items: list[Item], flags: int) -> bool:
    """The lookbehind forbids every character the run and its lead-in can match."""
    if guard is None or len(guard) != 1 or guard[0][0] not in SINGLE:
        return False
    banned = _matches(guard[0], flags)
    return all(item[0] in SINGLE and _matches(item, flags) <= banned for item in items)


def _matches(item: Item, flags: int) -> set[str]:
    """The characters up to U+3000 that one single-character item matches."""
    compiled = sre_compile.compile(sre_parse.SubPattern(sre_parse.State(), [item]), flags)
    return {chr(c) for c in range(0x3000) if compiled.fullmatch(chr(c))}


@pytest.mark.parametrize("name", sorted(CLIENT_TEXT_PATTERNS))
def test_client_text_patterns_cannot_backtrack_super_linearly(name: str) -> None:
    pattern = CLIENT_TEXT_PATTERNS[name]
    assert all(_linear(b, pattern.flags) for b in _branches(pattern)), pattern.pattern


def test_the_audit_catches_a_quadratic_pattern() -> None:
    for bad in (r"\b[a-z][a-z0-9+.-]*://\S+", r"(a+)+b", r"<d[^>]*>.*?</d>"):
        pattern = re.compile(bad)
        assert not all(_linear(b, pattern.flags) for b in _branches(pattern)), bad
