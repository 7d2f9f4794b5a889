"""Rows to token ids with completion-only labels, and the deterministic step plan.

A step is ``batch_rows`` rows (one optimizer update); it is split into micro-batches of
at most ``micro_tokens`` padded tokens, rows of similar length together, and the loss is
the mean over every completion token of the step, so gradient accumulation is exact.
The plan depends only on the rows and the seed: a resumed run replays it from its step.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ponder.distill.chat import render_completion, render_prompt
from ponder.distill.data import check_row
from ponder.errors import ConfigError, DataError

IGNORE = -100


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    labels: list[int]  # IGNORE on the prompt
    group: str  # the question: the validation split holds out whole questions

    @property
    def target_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows from a distill JSONL file, each checked; errors name the line."""
    file = Path(path)
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read rows {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise DataError(f"{file}: not UTF-8 text") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{file.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from None
        check_row(row, where)
        rows.append(row)
    if not rows:
        raise DataError(f"{file} holds no rows")
    return rows


def digest(rows: Sequence[dict[str, Any]]) -> str:
    """A fingerprint of the training text (a resumed run must train on the same rows)."""
    sha = hashlib.sha256()
    for row in rows:
        sha.update(json.dumps(row["messages"], sort_keys=True).encode())
    return sha.hexdigest()[:16]


def encode(row: dict[str, Any], tokenizer: Tokenizer) -> Encoded:
    messages = row["messages"]
    prompt = tokenizer.encode(render_prompt(messages[:-1]), add_special_tokens=False)
    reply = tokenizer.encode(render_completion(messages[-1]["content"]), add_special_tokens=False)
    meta: dict[str, Any] = row["meta"] if isinstance(row.get("meta"), dict) else {}
    group = str(meta.get("id") or render_prompt(messages[:-1]))
    return Encoded(prompt + reply, [IGNORE] * len(prompt) + reply, group)


def encode_all(
    rows: Sequence[dict[str, Any]], tokenizer: Tokenizer, max_length: int
) -> tuple[list[Encoded], int]:
    """Encoded rows, dropping those longer than ``max_length`` (a cut path would teach an
    unfinished answer); returns (kept, dropped)."""
    kept = [e for e in (encode(r, tokenizer) for r in rows) if len(e.ids) <= max_length]
    if not kept:
        raise ConfigError(f"every row is longer than max_length={max_length} tokens")
    return kept, len(rows) - len(kept)


def split(
    encoded: Sequence[Encoded], fraction: float, seed: int
) -> tuple[list[Encoded], list[Encoded]]:
    """(train, validation): ``fraction`` of the questions, all their rows, held out."""
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"val_fraction must lie in [0, 1), got {fraction}")
    groups = sorted({e.group for e in encoded})
    random.Random(f"split:{seed}").shuffle(groups)
    held = set(groups[: int(len(groups) * fraction)])
    train = [e for e in encoded if e.group not in held]
    if not train:
        raise ConfigError("no rows left to train on: lower val_fraction")
    return train, [e for e in encoded if e.group in held]


def plan_steps(count: int, epochs: int, batch_rows: int, seed: int) -> list[list[int]]:
    """Row indices of every optimizer step: each epoch a fresh shuffle, cut in steps."""
    if epochs < 1 or batch_rows < 1:
        raise ConfigError("epochs and batch_rows must be at least 1")
    steps = []
    for epoch in range(epochs):
        order = list(range(count))
        random.Random(f"epoch:{seed}:{epoch}").shuffle(order)
        steps += [order[i : i + batch_rows] for i in range(0, count, batch_rows)]
    return steps


def micro_batches(
    rows: Sequence[Encoded], indices: Sequence[int], micro_tokens: int
) -> list[list[int]]:
    """Indices of one step grouped by length into batches of at most ``micro_tokens``
    padded tokens (a longer row goes alone)."""
    ordered = sorted(indices, key=lambda i: len(rows[i].ids))
    batches: list[list[int]] = []
    current: list[int] = []
    for index in ordered:
        width = len(rows[index].ids)  # sorted: the newest row is the widest
        if current and width * (len(current) + 1) > micro_tokens:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches
