"""reorder and pack: properties that hold for any input (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ponder.context import ORDERS, pack, reorder
from ponder.context.tokens import EstimateTokenizer, count
from ponder.errors import ConfigError

TOK = EstimateTokenizer()


def words(text: str) -> int:
    return len(text.split())


def test_ends_matches_the_issue_and_langchain_for_seven() -> None:
    assert reorder([1, 2, 3, 4, 5, 6, 7], "ends") == [1, 3, 5, 7, 6, 4, 2]
    assert reorder([1, 2, 3, 4, 5, 6, 7], "ends-reversed") == [2, 4, 6, 7, 5, 3, 1]
    assert reorder([1, 2, 3, 4, 5, 6], "ends") == [1, 3, 5, 6, 4, 2]  # rank 1 stays first
    assert reorder([1, 2, 3], "recency") == [3, 2, 1]
    with pytest.raises(ConfigError, match="unknown order"):
        reorder([1], "middle")


@given(st.lists(st.integers(), max_size=40), st.sampled_from(ORDERS))
def test_every_order_is_a_permutation(items: list[int], order: str) -> None:
    assert sorted(reorder(items, order)) == sorted(items)


@given(st.integers(min_value=1, max_value=60))
def test_ends_keeps_more_relevant_items_nearer_an_end(n: int) -> None:
    laid = reorder(list(range(n)), "ends")
    distance = {rank: min(i, n - 1 - i) for i, rank in enumerate(laid)}
    assert laid[0] == 0 and (n < 2 or laid[-1] == 1)
    assert all(distance[r] <= distance[r + 1] for r in range(n - 1))
    assert reorder(list(range(n)), "ends-reversed") == laid[::-1]


texts = st.lists(
    st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta"]), min_size=1, max_size=30).map(
        " ".join
    ),
    max_size=12,
)


@given(texts, st.integers(min_value=0, max_value=200), st.booleans())
def test_pack_fits_the_budget_and_keeps_a_rank_prefix(
    ranked: list[str], budget: int, truncate: bool
) -> None:
    packed = pack(ranked, budget, words, truncate=truncate, min_tokens=3)
    assert packed.tokens == sum(words(t) for t in packed.texts) <= budget
    assert sorted(packed.kept + packed.dropped) == list(range(len(ranked)))
    assert list(packed.kept) == list(range(len(packed.kept)))  # the most relevant first
    for index, text in zip(packed.kept, packed.texts, strict=True):
        if index == packed.truncated:
            assert ranked[index].startswith(text) and text != ranked[index]
        else:
            assert text == ranked[index]
    if sum(words(t) for t in ranked) <= budget:
        assert not packed.dropped and packed.truncated is None
    if not truncate:
        assert packed.truncated is None


def test_pack_truncates_the_first_misfit_and_reports_the_rest() -> None:
    ranked = ["one two three", "four five six seven eight", "nine ten"]
    packed = pack(ranked, 6, words, min_tokens=2)
    assert packed.texts == ("one two three", "four five six")
    assert (packed.kept, packed.dropped, packed.truncated) == ((0, 1), (2,), 1)
    assert pack(ranked, 6, words, min_tokens=4).dropped == (1, 2)
    with pytest.raises(ConfigError, match="budget"):
        pack(ranked, -1, words)


def test_pack_counts_with_a_real_tokenizer_shape() -> None:
    packed = pack(["The cat sat on the mat."] * 5, 20, lambda t: count(TOK, t), min_tokens=1)
    assert packed.tokens <= 20 and packed.dropped
