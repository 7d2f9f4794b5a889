"""The sample store: an append-only JSONL file, one line per finished (or failed) item.

Each line is flushed and fsync'd as soon as the item finishes, so Ctrl-C, a crash or
a failing backend loses at most the items in flight. A line cut off by a crash is
skipped on reading. Later lines win over earlier ones with the same key, so a rerun
that retries a failed item simply appends its new outcome.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ponder.errors import DataError

RECORDS = "records.jsonl"
META = "run.json"


def record_key(record: dict[str, Any]) -> tuple[str, str, str]:
    """(item id, model spec, strategy spec): what makes an item of a run unique."""
    return (str(record["item"]["id"]), str(record["model"]), str(record["strategy"]))


class SampleStore:
    """A run directory holding ``records.jsonl`` (and ``run.json`` with the run's settings)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / RECORDS

    def exists(self) -> bool:
        return self.path.exists()

    def append(self, record: dict[str, Any]) -> None:
        """Write one record durably (flush + fsync) before returning."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

    def _lines(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as file:
            yield from enumerate(file, start=1)

    def records(self) -> list[dict[str, Any]]:
        """The latest record for each key, in the order keys first appeared."""
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        lines = list(self._lines())
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = record_key(record)
            except (json.JSONDecodeError, KeyError, TypeError):
                if number == len(lines) and not line.endswith("\n"):
                    continue  # the last line was cut off by a crash: that item reruns
                raise DataError(f"{self.path}:{number}: not a sample record") from None
            latest[key] = record
        return list(latest.values())

    def finished(self) -> set[tuple[str, str, str]]:
        """Keys of items that finished without error (a rerun skips them)."""
        return {record_key(r) for r in self.records() if not r.get("error")}

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")

    def read_meta(self) -> dict[str, Any]:
        path = self.directory / META
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON: {exc}") from exc
        return data if isinstance(data, dict) else {}


def open_store(directory: str | Path) -> SampleStore:
    """An existing run directory; DataError when it holds no records."""
    store = SampleStore(directory)
    if not store.exists():
        raise DataError(
            f"{directory} holds no {RECORDS}: run `ponder eval run --out {directory}` first"
        )
    return store


def compact(record: dict[str, Any]) -> dict[str, Any]:
    """A smaller copy for shipping: each sample's token logprobs become one value, their
    mean, so ``Sample.mean_logprob`` (what best-of-N scores) is unchanged."""
    out = dict(record)
    samples = []
    for sample in record.get("samples") or []:
        logprobs = sample.get("token_logprobs")
        if logprobs:
            sample = {**sample, "token_logprobs": [round(sum(logprobs) / len(logprobs), 5)]}
        samples.append(sample)
    out["samples"] = samples
    out.pop("trace", None)
    return out


def write_records(records: list[dict[str, Any]], path: str | Path) -> Path:
    """Write records as JSONL, gzip-compressed when the name ends in ``.gz``."""
    file = Path(path)
    text = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    if file.suffix == ".gz":
        with gzip.open(file, "wt", encoding="utf-8") as out:
            out.write(text)
    else:
        file.write_text(text, encoding="utf-8")
    return file


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records from a run directory, a ``.jsonl`` file or a ``.jsonl.gz`` file."""
    file = Path(path)
    if file.is_dir():
        return open_store(file).records()
    try:
        if file.suffix == ".gz":
            with gzip.open(file, "rt", encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        else:
            lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read records {file}: {exc}") from exc
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise DataError(f"{file} holds a line that is not JSON: {exc.msg}") from exc
