"""``apply``: a chat request's <document> blocks packed and reordered for the proxy."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ponder.context import ContextOptions, apply, parse_options
from ponder.errors import ConfigError


def request(n: int = 5, words: int = 10) -> list[dict[str, Any]]:
    docs = "\n".join(
        f'<document index="{i}">{" ".join(["lorem"] * words)}</document>' for i in range(1, n + 1)
    )
    return [
        {"role": "system", "content": "Answer from the documents."},
        {"role": "user", "content": f"Read these.\n<documents>\n{docs}\n</documents>\nQ: who?"},
    ]


def indices(content: str) -> list[int]:
    return [int(i) for i in re.findall(r'<document index="(\d+)">', content)]


def test_reorder_puts_the_most_relevant_documents_at_both_ends() -> None:
    messages = request(7)
    out, report = apply(messages, {"reorder": True})
    assert indices(out[1]["content"]) == [1, 3, 5, 7, 6, 4, 2]
    assert out[1]["content"].startswith('Read these.\n<documents>\n<document index="1">')
    assert out[1]["content"].endswith("</document>\n</documents>\nQ: who?")
    assert messages == request(7)  # the input is not changed
    assert report.documents == 7 and report.message_index == 1 and report.order == "ends"
    assert report.dropped == [] and report.tokens_estimated


def test_a_budget_keeps_the_most_relevant_and_reports_what_was_dropped() -> None:
    out, report = apply(request(5, words=10), {"token_budget": 25, "min_tokens": 3})
    assert indices(out[1]["content"]) == [1, 2, 3]
    assert report.kept == [0, 1, 2] and report.dropped == [3, 4] and report.truncated == 2
    assert report.tokens_after <= 25 < report.tokens_before
    third = re.search(r'<document index="3">(.*?)</document>', out[1]["content"])
    assert third is not None and 0 < len(third.group(1).split()) < 10


def test_budget_then_reorder_with_a_callers_tokenizer() -> None:
    out, report = apply(
        request(6), {"token_budget": 40, "reorder": "recency", "truncate": False}, lambda t: 10
    )
    assert indices(out[1]["content"]) == [4, 3, 2, 1]
    assert report.truncated is None and not report.tokens_estimated


@pytest.mark.parametrize(
    ("messages", "note"),
    [
        ([{"role": "user", "content": "no documents here"}], "no <document> blocks"),
        (
            [{"role": "user", "content": "<document>a</document> and <document>b</document>"}],
            "text between",
        ),
        ([{"role": "user", "content": [{"type": "text", "text": "<document>a</document>"}]}], "no"),
    ],
)
def test_requests_without_the_shape_pass_unchanged(messages: list[Any], note: str) -> None:
    out, report = apply(messages, {"reorder": True, "token_budget": 1})
    assert out == messages and report.note.startswith(note)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token_budget": -1}, "budget"),
        ({"token_budget": 10**9}, "budget"),
        ({"reorder": "middle"}, "reorder"),
        ({"api_base": "http://evil"}, "api_base"),
    ],
)
def test_bad_options_give_one_line(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_options(options)
    assert "\n" not in str(info.value)


def test_too_many_documents_are_refused() -> None:
    with pytest.raises(ConfigError, match="at most"):
        apply(request(1001, words=1), ContextOptions(reorder=True))
