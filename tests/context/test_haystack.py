"""Haystacks are deterministic and needles land at the requested depth."""

from __future__ import annotations

import pytest

from ponder.context import EstimateTokenizer
from ponder.context.tokens import count
from ponder.errors import ConfigError
from ponder.eval.context_sweeps import NiahSpec, build_haystack, niah_case, niah_cases
from ponder.eval.context_sweeps.haystack import filler_sentences, insert_needles

TOK = EstimateTokenizer()


@pytest.mark.parametrize("kind", ["prose", "noise"])
def test_the_same_seed_builds_the_same_haystack(kind: str) -> None:
    first = build_haystack(TOK, 600, kind, seed=3)
    assert first == build_haystack(TOK, 600, kind, seed=3)
    assert 560 <= first.tokens <= 600 and count(TOK, first.text) == first.tokens
    if kind == "prose":
        assert first.text != build_haystack(TOK, 600, kind, seed=4).text


def test_a_shorter_haystack_is_a_prefix_of_a_longer_one() -> None:
    """Lengths of one sweep share a prefix, which a server's prompt cache reuses."""
    short, long = build_haystack(TOK, 300), build_haystack(TOK, 900)
    assert long.text.startswith(short.text)


def test_noise_repeats_rulers_sentences() -> None:
    assert filler_sentences("noise", 6)[:2] == ["The grass is green.", "The sky is blue."]
    assert filler_sentences("noise", 6)[5] == "The grass is green."


@pytest.mark.parametrize("depth", [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_the_needle_sits_at_the_boundary_nearest_its_depth(depth: float) -> None:
    haystack = build_haystack(TOK, 800, seed=1)
    needle = "The special magic number for odd-kettle is: 1234567."
    placed = insert_needles(haystack, [(needle, depth)], TOK)
    at = placed.needle_chars[0]
    assert placed.text[at:].lstrip().startswith(needle)
    assert placed.needle_tokens[0] == count(TOK, placed.text[:at])
    # no other sentence boundary of the haystack is closer to the requested depth
    target = depth * haystack.tokens
    best = min(abs(t - target) for t in haystack.cut_tokens)
    assert abs(placed.needle_tokens[0] - target) == best
    assert placed.text.replace(" " + needle, "").replace(needle + " ", "") == haystack.text


def test_several_needles_keep_their_own_depths() -> None:
    haystack = build_haystack(TOK, 800)
    needles = [("Needle one.", 0.8), ("Needle two.", 0.2), ("Needle three.", 0.2)]
    placed = insert_needles(haystack, needles, TOK)
    assert placed.needle_tokens[1] < placed.needle_tokens[0]
    for (text, _), at in zip(needles, placed.needle_chars, strict=True):
        assert placed.text[at:].lstrip().startswith(text)


def test_niah_cases_fill_the_length_and_are_ordered_for_prefix_reuse() -> None:
    spec = NiahSpec(lengths=(1000, 400), depths=(0.0, 1.0, 0.5))
    cases = niah_cases(spec, TOK)
    assert [(c.length, c.depth) for c in cases][:3] == [(400, 1.0), (400, 0.5), (400, 0.0)]
    for case in cases:
        assert case.length - 40 <= case.context_tokens <= case.length
        assert case.answers[0] in case.prompt and not case.exact
    again = niah_case(spec, TOK, 1000, 0.5)
    assert again == next(c for c in cases if (c.length, c.depth) == (1000, 0.5))


def test_multikey_cases_carry_distractor_needles() -> None:
    spec = NiahSpec(lengths=(600,), depths=(0.5,), mode="multikey", needles=4)
    case = niah_cases(spec, TOK)[0]
    assert len(case.distractors) == 3 and len(case.needle_tokens) == 4
    assert all(d in case.prompt for d in case.distractors)
    multi = niah_cases(NiahSpec((600,), (0.5,), mode="multi", needles=3), TOK)[0]
    assert len(multi.answers) == 3 and "all the special magic numbers" in multi.prompt


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lengths": (32,)}, "at least 64"),
        ({"depths": (1.5,)}, "between 0 and 1"),
        ({"mode": "triple"}, "unknown NIAH mode"),
        ({"mode": "multi", "needles": 1}, "needles 2 or more"),
        ({"filler": "lorem"}, "unknown filler"),
    ],
)
def test_bad_specs_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"lengths": (500,), "depths": (0.5,)}
    with pytest.raises(ConfigError, match=message):
        NiahSpec(**{**base, **kwargs})  # type: ignore[arg-type]
