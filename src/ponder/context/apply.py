"""Reorder and pack the documents of a chat request: what the proxy calls.

The documents of a request are the ``<document ...>...</document>`` blocks (tags in
any case, attributes kept verbatim) in the string ``content`` of the last message
that holds any, in retrieval-rank order: the first block is the most relevant. This
is the layout Anthropic's long-context guide recommends and many RAG templates emit::

    {"role": "user", "content": "Answer from these.\\n<documents>\\n
      <document index=\\"1\\">...</document>\\n<document index=\\"2\\">...</document>\\n
      </documents>\\nQuestion: ..."}

Only whitespace may separate the blocks; text before the first and after the last
stays where it is. The blocks are found by ``Scan``, one left-to-right pass (a
backtracking pattern took quadratic time on unclosed tags). ``token_budget`` packs the
blocks' inner text into that many tokens (``pack``: most relevant first, the first
misfit truncated, the rest dropped), then ``reorder`` lays out what was kept. Token
counts are estimated unless the caller passes a ``count`` function. A request
without such blocks passes unchanged, and the report says why. Content-part arrays are left alone.

Wiring in the proxy (one call, before the request goes upstream or to a strategy)::

    from ponder.context import apply
    messages, report = apply(body["messages"], ponder_options["context"])
    # ConfigError on bad options -> HTTP 400 with its one-line message;
    # report.to_dict() -> the response's ``ponder.context`` object.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ponder.backends.wire import JsonInt
from ponder.context.reorder import pack, reorder
from ponder.context.tokens import EstimateTokenizer
from ponder.deprecation import renamed
from ponder.errors import ConfigError

MAX_BUDGET = 2_000_000
MAX_DOCUMENTS = 1000
_FOLD = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)  # keeps every offset
_SPACES = re.compile(r"\s*")


class ContextOptions(BaseModel):
    """``extra_body.ponder.context``: what to do with a request's documents. Strict, as
    the other request options are: no unknown fields, no coercion ("yes" is not true),
    and options that ask for nothing (no reorder, no token budget) are refused.
    ``budget``, the old name of ``token_budget``, is accepted for one release."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @model_validator(mode="before")
    @classmethod
    def _old_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            return renamed(values, {"budget": "token_budget"}, "ponder.context")
        return values

    reorder: bool | Literal["natural", "ends", "ends-reversed", "recency"] = Field(
        False, description="true (= 'ends'): most relevant documents at both ends"
    )
    token_budget: JsonInt | None = Field(
        None, ge=1, le=MAX_BUDGET, description="tokens the documents' text may use in all"
    )
    truncate: bool = Field(True, description="cut the first document that does not fit")
    min_tokens: JsonInt = Field(
        32, ge=1, le=4096, description="do not keep a truncated document shorter than this"
    )

    @model_validator(mode="after")
    def _asks_for_something(self) -> ContextOptions:
        if self.token_budget is None and self.order == "natural":
            raise ValueError("it asks for nothing: set reorder or token_budget, or leave it out")
        return self

    @property
    def order(self) -> str:
        if self.reorder is True:
            return "ends"
        return self.reorder or "natural"


@dataclass
class ContextReport:
    """What ``apply`` did, for the response's ``ponder`` object and the logs."""

    documents: int = 0
    message_index: int | None = None
    order: str = "natural"
    kept: list[int] = field(default_factory=list)  # 0-based ranks, in rank order
    dropped: list[int] = field(default_factory=list)
    truncated: int | None = None
    tokens_before: int = 0
    tokens_after: int = 0
    tokens_estimated: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_options(data: ContextOptions | Mapping[str, Any]) -> ContextOptions:
    """Validate ``extra_body.ponder.context``; ConfigError with one line on bad input."""
    if isinstance(data, ContextOptions):
        return data
    try:
        return ContextOptions.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "context"
        raise ConfigError(f"ponder.context.{where}: {first['msg']}") from None


@dataclass(frozen=True)
class Block:
    """One ``<document ...>inner</document>``: offsets into the content."""

    start: int
    inner_start: int
    inner_end: int
    end: int


class Scan:
    """The blocks of ``text``, found in one left-to-right pass.

    A block opens at ``<document`` (any case) not followed by a word character, through
    the next ``>``, and closes at the first ``</document`` + optional whitespace + ``>``
    after that. Every search starts where the previous one stopped, and the first that
    finds nothing ends the scan (no later opening could close), so the work is linear in
    ``len(text)``: ``steps`` counts the characters the searches passed over.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = text.translate(_FOLD)
        self.steps = len(text)

    def _find(self, needle: str, start: int) -> int:
        found = self.folded.find(needle, start)
        self.steps += (len(self.text) if found < 0 else found + len(needle)) - start
        return found

    def blocks(self) -> list[Block]:
        out: list[Block] = []
        position = 0
        while (start := self._find("<document", position)) >= 0:
            position = start + len("<document")
            if position < len(self.text) and _word(self.text[position]):
                continue
            tag_end = self._find(">", position)
            if tag_end < 0:
                break
            close = self._close(tag_end + 1)
            if close is None:
                break
            out.append(Block(start, tag_end + 1, *close))
            position = close[1]
        return out

    def _close(self, position: int) -> tuple[int, int] | None:
        """Where the first closing tag at or after ``position`` starts and ends."""
        while (start := self._find("</document", position)) >= 0:
            spaces = _SPACES.match(self.text, start + len("</document"))
            position = spaces.end() if spaces else start + len("</document")
            self.steps += position - start - len("</document")
            if self.text.startswith(">", position):
                return start, position + 1
        return None


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"  # what a pattern's \w matches


def find_blocks(content: str) -> list[Block]:
    """The ``<document>`` blocks of ``content``, in order (see ``Scan``)."""
    return Scan(content).blocks()


def _find(messages: Sequence[Mapping[str, Any]]) -> tuple[int, list[Block]] | None:
    for index in range(len(messages) - 1, -1, -1):
        content = messages[index].get("content")
        if isinstance(content, str):
            blocks = find_blocks(content)
            if blocks:
                return index, blocks
    return None


def _rebuild(content: str, blocks: list[Block], texts: dict[int, str], layout: list[int]) -> str:
    first, last = blocks[0], blocks[-1]
    separator = content[blocks[0].end : blocks[1].start] if len(blocks) > 1 else "\n"
    rendered = [
        content[blocks[i].start : blocks[i].inner_start]
        + texts[i]
        + content[blocks[i].inner_end : blocks[i].end]
        for i in layout
    ]
    return content[: first.start] + separator.join(rendered) + content[last.end :]


def apply(
    messages: Sequence[Mapping[str, Any]],
    options: ContextOptions | Mapping[str, Any],
    count: Callable[[str], int] | None = None,
) -> tuple[list[dict[str, Any]], ContextReport]:
    """New messages with the documents packed and reordered (the input is not changed)."""
    opts = parse_options(options)
    out = [dict(m) for m in messages]
    report = ContextReport(order=opts.order, tokens_estimated=count is None)
    found = _find(out)
    if found is None:
        report.note = "no <document> blocks in any message's string content"
        return out, report
    index, blocks = found
    content = str(out[index]["content"])
    gaps = [content[a.end : b.start] for a, b in pairwise(blocks)]
    if any(gap.strip() for gap in gaps):
        report.note = "text between <document> blocks: left unchanged"
        return out, report
    if len(blocks) > MAX_DOCUMENTS:
        raise ConfigError(f"{len(blocks)} documents in one request: at most {MAX_DOCUMENTS}")
    counter = count or (lambda text: len(EstimateTokenizer().offsets(text)))
    inner = [content[b.inner_start : b.inner_end] for b in blocks]
    budget = opts.token_budget if opts.token_budget is not None else MAX_BUDGET
    packed = pack(inner, budget, counter, truncate=opts.truncate, min_tokens=opts.min_tokens)
    texts = dict(zip(packed.kept, packed.texts, strict=True))
    layout = reorder(list(packed.kept), opts.order)
    out[index]["content"] = _rebuild(content, blocks, texts, layout)
    report.documents, report.message_index = len(blocks), index
    report.kept, report.dropped = list(packed.kept), list(packed.dropped)
    report.truncated = packed.truncated
    report.tokens_before = sum(counter(t) for t in inner)
    report.tokens_after = packed.tokens
    return out, report
