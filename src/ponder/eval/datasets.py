"""Evaluation items: a JSONL loader and the built-in generated suites.

A JSONL line holds ``question`` and ``answer`` and optionally ``id``, ``difficulty``,
``choices`` and ``kind``. GSM8K answers (worked solution ending in ``#### 72``) are
accepted: the gold answer is what follows ``####``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ponder.answers.numbers import parse_value
from ponder.errors import DataError

KINDS = ("auto", "number", "choice", "text", "expr")


@dataclass(frozen=True)
class Item:
    """One question with its gold answer."""

    id: str
    question: str
    answer: str
    kind: str = "auto"
    difficulty: str | None = None
    choices: tuple[str, ...] | None = None
    suite: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["choices"] = list(self.choices) if self.choices else None
        return data

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], where: str = "item", require_answer: bool = True
    ) -> Item:
        if not isinstance(data, dict):
            raise DataError(f"{where}: expected a JSON object, got {type(data).__name__}")
        question, answer = data.get("question"), data.get("answer")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: 'question' must be a non-empty string")
        if answer is None and not require_answer:
            answer = ""
        if answer is None or isinstance(answer, (bool, dict, list)):
            raise DataError(f"{where}: 'answer' must be a string or a number")
        kind = str(data.get("kind") or "auto")
        if kind not in KINDS:
            raise DataError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        gold = gold_answer(_as_written(answer, where))
        if require_answer and not gold.strip():
            raise DataError(f"{where}: 'answer' is empty")
        if require_answer and kind == "number" and parse_value(gold) is None:
            raise DataError(f"{where}: 'answer' {gold!r:.40} is not a number (kind 'number')")
        choices = data.get("choices")
        if choices is not None and not (
            isinstance(choices, list) and all(isinstance(c, str) for c in choices)
        ):
            raise DataError(f"{where}: 'choices' must be a list of strings")
        difficulty = data.get("difficulty")
        return cls(
            id=where if data.get("id") in (None, "") else str(data["id"]),
            question=question,
            answer=gold,
            kind=kind,
            difficulty=None if difficulty is None else str(difficulty),
            choices=tuple(choices) if choices else None,
            suite=str(data.get("suite") or ""),
        )


def _as_written(answer: str | int | float, where: str) -> str:
    """A JSON number as a person writes it (1e-07 -> 0.0000001), a string as it is."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, float):
        if not math.isfinite(answer):
            raise DataError(f"{where}: 'answer' must be a finite number, got {answer}")
        text = format(Decimal(repr(answer)), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(answer)


def gold_answer(answer: str) -> str:
    """The gold answer: for GSM8K's worked solutions, the part after ``####``."""
    if "####" in answer:
        answer = answer.rsplit("####", 1)[1]
        return answer.strip().replace(",", "")
    return answer.strip()


def load_jsonl(path: str | Path, require_answer: bool = True) -> list[Item]:
    """Items from a JSONL file; a malformed line raises DataError naming its line number.
    Without ``require_answer`` an item may lack a gold answer (distillation labels it by
    agreement)."""
    file = Path(path)
    try:
        lines = file.read_bytes().splitlines()
    except OSError as exc:
        raise DataError(f"cannot read dataset {file}: {exc.strerror or exc}") from exc
    items: list[Item] = []
    seen: set[str] = set()
    for number, raw in enumerate(lines, start=1):
        where = f"{file.name}:{number}"
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{where}: not UTF-8 text (byte {raw[exc.start]:#04x} at column {exc.start + 1})"
            ) from None
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from None
        if isinstance(data, dict) and "id" not in data:
            data = {**data, "id": f"{file.stem}-{number}"}
        item = Item.from_dict(data, where, require_answer)
        if item.id in seen:
            raise DataError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise DataError(f"dataset {file} holds no items")
    return items


def write_jsonl(items: Sequence[Item], path: str | Path) -> None:
    with Path(path).open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
