"""From a teacher's run directory (the eval store) to SFT rows, with a held-out check.

``ponder distill generate`` first runs the teacher with ``ponder eval run``'s machinery
(resumable, locked, every sample stored), then calls :func:`build_rows` on what the store
holds. Building rows never calls the teacher again, except a ``judge`` scorer.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ponder.backends.base import Backend
from ponder.distill.data import RowCounts, RowOptions, keep_paths, make_row, normalized_text
from ponder.errors import ConfigError
from ponder.eval.datasets import Item
from ponder.eval.runner import SAMPLE_MODE, messages_for
from ponder.eval.store import Record, read_records
from ponder.strategies.verifiers import Scorer


def held_out_keys(paths: Iterable[str | Path]) -> tuple[set[str], set[str]]:
    """Ids and normalised question texts of held-out data: JSONL datasets, eval records
    (run directories or exports) or distill rows, in any mix."""
    ids: set[str] = set()
    texts: set[str] = set()
    for path in paths:
        file = Path(path)
        if not file.exists():
            raise ConfigError(f"held-out data not found: {file}")
        for entry in read_records(file):
            if not isinstance(entry, dict):
                continue
            item: dict[str, Any] = entry["item"] if isinstance(entry.get("item"), dict) else entry
            meta: dict[str, Any] = entry["meta"] if isinstance(entry.get("meta"), dict) else {}
            ident = item.get("id") or meta.get("id")
            question = item.get("question") or meta.get("question")
            if ident:
                ids.add(str(ident))
            if isinstance(question, str):
                texts.add(normalized_text(question))
    return ids, texts


async def build_rows(
    records: Sequence[dict[str, Any]],
    options: RowOptions,
    held_out: tuple[set[str], set[str]] = (set(), set()),
    scorer: Scorer | None = None,
    backend: Backend | None = None,
) -> tuple[list[dict[str, Any]], RowCounts]:
    """Rows from stored records (several records of one item share its cap and dedup)."""
    seen = RowCounts()
    rows: list[dict[str, Any]] = []
    kept_texts: dict[str, list[str]] = {}
    items: set[str] = set()
    held_ids, held_texts = held_out
    for record in map(Record.from_dict, records):
        item = Item.from_dict(record.item, "stored record", require_answer=False)
        held = item.id in held_ids or normalized_text(item.question) in held_texts
        if item.id not in items:
            items.add(item.id)
            seen.items += 1
            seen.excluded += held
        if held:
            continue
        if record.error:
            seen.failed += 1
            continue
        samples = record.to_samples()
        if not samples:
            continue
        scores = None
        if scorer is not None:
            if backend is None:
                raise ConfigError("a scorer needs the teacher's backend")
            scores = (await scorer.score(item.question, samples, backend)).scores
        spec = record.strategy
        sampling = spec.split(":", 1)[0] == SAMPLE_MODE
        label = None if sampling else record.prediction
        texts = kept_texts.setdefault(item.id, [])
        had = len(texts)
        prompt = [{"role": m.role, "content": m.content or ""} for m in messages_for(item)]
        for index, sample, fields in keep_paths(
            item, samples, options, scores, seen, texts, label=label
        ):
            row = make_row(item, prompt, index, sample, fields, record.model, spec)
            rows.append(row)
        if had == 0 and texts:
            seen.questions += 1
    seen.rows = len(rows)
    return rows, seen


def write_rows(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Write rows as JSONL, atomically (a crash leaves the old file or none)."""
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    part = file.with_name(file.name + ".part")
    with part.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    part.replace(file)
    return file
