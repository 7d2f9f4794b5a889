"""Final answers out of messy model outputs: markers first (``\\boxed{}``, ``[답: X]``,
``#### X``, "Answer: X"), then per-kind fallbacks; truncation-aware ``sample_answer``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ponder import expressions
from ponder.answers.normalize import detect_kind, norm_choice, norm_text, normalize
from ponder.answers.numbers import (
    LEAD_LETTER_RE,
    clean_latex,
    format_value,
    numbers_in,
    parse_value,
    require_kind,
    require_str,
)
from ponder.errors import ConfigError

_DEFAULT_LETTERS = "ABCDEFGH"

_MAX_TRIES = 8  # occurrences of one marker tried, latest first


_STRONG_RE = re.compile(
    r"[(\[]([A-Z])[)\]]|(?<![\w(])([A-Z])\)"
    r"|(?i:answer|option|choice)s?(?:\s*(?i:is)\b)?(?:\s*[:：])?(?:\s*\*+)?\s*\(?([A-Z])(?![\w'’])"
)

_LONE_RE = re.compile(r"(?<![\w'’\\])(?![AI]\s+[a-z])([A-Z])(?![\w'’])")

_SENTENCE_END_RE = re.compile(r"[.!?。](?=\s|$)|\n")

_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*\{")

_ANSWER_RE = re.compile(
    r"(?i)\banswer\b\**\s*(?:(?:to\b[^\n.:]{0,60}?\s)?(?:is|would\s+be|will\s+be)\b\**\s*[:：]?|=|[:：])"
)

_LINE_MARKERS = (
    (re.compile(r"답\s*[:：]"), "\n]"),
    (re.compile(r"####"), "\n"),
    (_ANSWER_RE, "\n"),
)

_PLACEHOLDER_RE = re.compile(r"\s*<[A-Za-z][\w \-]{0,38}>[\W_]*")  # 'Answer: <answer>'.

_FOLLOW_UP_RE = re.compile(r"(?im)^[ \t#*]*(?:question|problem|q)[ \t]*\d*[ \t]*[:：.]")


@dataclass(frozen=True)
class _Spec:
    """What to extract: the kind, the allowed letters and, for option texts, their patterns."""

    kind: str
    letters: dict[str, str]  # upper-case letter -> the canonical answer it stands for
    options: tuple[tuple[str, re.Pattern[str]], ...]
    has_choices: bool


def _make_spec(kind: str, choices: Sequence[str] | None) -> _Spec:
    if choices is not None and (
        isinstance(choices, str) or not all(isinstance(c, str) for c in choices)
    ):
        raise ConfigError("choices must be a sequence of str, e.g. ['A', 'B', 'C', 'D']")
    if not choices:
        return _Spec(kind, {c: c for c in _DEFAULT_LETTERS}, (), False)
    if all(detect_kind(c) == "choice" for c in choices):
        return _Spec(kind, {norm_choice(c): norm_choice(c) for c in choices}, (), True)
    if len(choices) > 26:
        raise ConfigError(f"at most 26 option texts can be lettered; got {len(choices)}")
    letters = {chr(ord("A") + i): normalize(c) for i, c in enumerate(choices)}
    options = []
    for choice in choices:
        words = norm_text(choice).split()
        if words:
            body = r"[\W_]+".join(re.escape(w) for w in words)
            options.append((normalize(choice), re.compile(rf"(?i)(?<!\w){body}(?!\w)")))
    return _Spec(kind, letters, tuple(options), True)


def _boxed(text: str) -> tuple[list[str], bool]:
    """Contents of every ``\\boxed{...}`` (nested braces kept); True if the last is unclosed."""
    contents, unclosed = [], False
    for m in list(_BOXED_RE.finditer(text))[-_MAX_TRIES:]:  # unclosed ones scan to the end
        depth, end = 1, m.end()
        while end < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
        unclosed = depth > 0
        contents.append(text[m.end() : end - (0 if unclosed else 1)])
    return contents, unclosed


def _line_marker(text: str, pattern: re.Pattern[str], stops: str) -> tuple[list[str], bool]:
    """Text after each marker up to a stop character or the next marker; True if at the end."""
    matches = list(pattern.finditer(text))
    contents, at_end = [], False
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        chunk = text[m.end() : end]
        cut = min((chunk.index(c) for c in stops if c in chunk), default=len(chunk))
        contents.append(chunk[:cut])
        at_end = m.end() + cut == len(text)
    return contents, at_end


def _marker_contents(text: str) -> list[str]:
    """Marker contents in priority order, latest first; a cut-off repeat yields to its original."""
    groups = [_boxed(text)]
    cleaned = clean_latex(text)
    groups += [_line_marker(cleaned, pattern, stops) for pattern, stops in _LINE_MARKERS]
    ordered: list[str] = []
    for contents, at_end in groups:
        latest = contents[::-1][:_MAX_TRIES]
        if at_end and len(latest) > 1:
            last, previous = latest[0].strip(), latest[1].strip()
            if previous.startswith(last) and len(previous) > len(last):
                latest = latest[1:]
        ordered += latest
    return [c for c in ordered if not _PLACEHOLDER_RE.fullmatch(c)]


def _drop_follow_up(text: str) -> str:
    """Cut a made-up next question (a "Question: ..." line) that follows the first marker."""
    markers = (_BOXED_RE, *(pattern for pattern, _ in _LINE_MARKERS))
    starts = [m.start() for m in (p.search(text) for p in markers) if m is not None]
    follow_up = _FOLLOW_UP_RE.search(text, min(starts)) if starts else None
    return text[: follow_up.start()] if follow_up else text


def _first_sentence(text: str) -> str:
    m = _SENTENCE_END_RE.search(text)
    return text[: m.start()] if m else text


def _number_from_content(content: str) -> str | None:
    """First number of the first sentence, or the result after its last '=' (``12 + 3 = 15``)."""
    sentence = _first_sentence(content)
    after = numbers_in(sentence.rsplit("=", 1)[1]) if "=" in sentence else []
    found = after or numbers_in(sentence)
    return format_value(found[0]) if found else None


def _hits(text: str, pattern: re.Pattern[str], spec: _Spec) -> list[tuple[int, int, str]]:
    hits = []
    for m in pattern.finditer(text):
        letter = m[m.lastindex or 0]
        if letter in spec.letters:
            hits.append((m.start(), m.end(), spec.letters[letter]))
    return hits


def _choice_from(text: str, spec: _Spec, first: bool) -> str | None:
    """The first choice reference in a marker's content, or the last one in the whole text."""
    lead = LEAD_LETTER_RE.match(text)
    if first and lead and lead[1].upper() in spec.letters:
        return spec.letters[lead[1].upper()]
    hits = _hits(text, _STRONG_RE, spec)
    hits += [(m.start(), m.end(), canon) for canon, pat in spec.options for m in pat.finditer(text)]
    if first or not hits:
        hits += _hits(text, _LONE_RE, spec)
    if not hits:
        return None
    if first:
        return min(hits, key=lambda h: (h[0], h[0] - h[1]))[2]
    return max(hits, key=lambda h: (h[1], h[1] - h[0]))[2]


def _from_content(content: str, spec: _Spec) -> str | None:
    if spec.kind == "expr":
        return expressions.find_expression(content)
    content = clean_latex(content).lstrip(" \t*:：$")
    if spec.kind == "number":
        return _number_from_content(content)
    if spec.kind == "choice" or (spec.kind == "auto" and spec.has_choices):
        return _choice_from(content, spec, first=True)
    sentence = _first_sentence(content)
    if spec.kind == "text":
        return norm_text(sentence) or None
    value = parse_value(sentence)
    if value is not None:
        return format_value(value)
    lead = LEAD_LETTER_RE.match(sentence)
    if lead and lead[1].upper() in spec.letters:
        return lead[1].upper()
    return _number_from_content(content) or normalize(sentence) or None


def _last_line(text: str, kind: str) -> str | None:
    for line in reversed(text.splitlines()):
        norm = normalize(line, kind)
        if norm:
            return norm
    return None


def _fallback(text: str, spec: _Spec) -> str | None:
    if spec.kind == "choice" or (spec.kind == "auto" and spec.has_choices):
        return _choice_from(text, spec, first=False)
    numbers = numbers_in(text) if spec.kind in ("number", "auto") else []
    if numbers or spec.kind == "number":
        return format_value(numbers[-1]) if numbers else None
    if spec.kind == "auto":
        choice = _choice_from(text, spec, first=False)
        if choice is not None:
            return choice
    return _last_line(text, spec.kind)


def extract_answer(
    text: str, kind: str = "auto", choices: Sequence[str] | None = None
) -> str | None:
    """Pull the final answer out of a model's output, normalised; None if there is none.

    ``kind`` is "auto", "number", "choice", "text" or "expr" (a final arithmetic
    expression).  ``choices`` lists the options of a multiple-choice question, as letters
    (``["A", "B", "C", "D"]``) or as option texts; with option texts the answer is the
    normalised text of the chosen option.
    """
    require_str(text, "text")
    spec = _make_spec(require_kind(kind), choices)
    if not text.strip():
        return None
    text = _drop_follow_up(text)
    if kind == "expr":
        return _expression(text)
    for content in _marker_contents(text):
        answer = _from_content(content, spec)
        if answer is not None and not _is_verdict(answer, kind):
            return answer
    answer = _fallback(clean_latex(text), spec)
    return None if answer is not None and _is_verdict(answer, kind) else answer


def _expression(text: str) -> str | None:
    """The final expression: from the answer markers, else from the last line stating one."""
    lines = [*_marker_contents(text), *reversed(text.splitlines())]
    return next(filter(None, map(expressions.find_expression, lines)), None)


def sample_answer(
    text: str, kind: str = "auto", choices: Sequence[str] | None = None, truncated: bool = False
) -> str | None:
    """A sample's answer: ``extract_answer`` for a complete output; for one that stopped
    at the length limit, only an explicit final-answer marker on a finished line counts
    (the last number of unfinished reasoning is no answer, so the sample abstains)."""
    if not truncated:
        return extract_answer(text, kind, choices)
    require_str(text, "text")
    spec = _make_spec(require_kind(kind), choices)
    finished = text[: text.rfind("\n") + 1]  # the last line may be cut mid-answer
    for content in _marker_contents(_drop_follow_up(finished)):
        answer = _from_content(content, spec)
        if answer is not None and not _is_verdict(answer, kind):
            return answer
    return None


_VERDICTS = frozenset({"correct", "incorrect", "right", "wrong"})


def _is_verdict(answer: str, kind: str) -> bool:
    """A self-assessment ("correct", "so the answer is correct") is no answer, unless
    text is asked for."""
    words = answer.lower().split()
    return kind == "auto" and 0 < len(words) <= 6 and words[-1] in _VERDICTS
