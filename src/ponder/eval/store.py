"""The sample store: an append-only JSONL file, one line per finished (or failed) item.

Each line is flushed and fsync'd as soon as the item finishes, so Ctrl-C, a crash or
a failing backend loses at most the items in flight. A line cut off by a crash or a
full disk is skipped on reading and cut away before the next append, so the next
record always starts a line of its own (a failed write is rolled back at once).
Later lines win over earlier ones with the same key, so a rerun that retries a failed
item simply appends its new outcome.

Records are keyed by (item id, model, strategy spec); the model is its spec without
runtime options (``identity_spec``: ``?threads=2`` is the same model), also for
stores written before that rule. ``run.json`` holds the run's settings; ``claim``
refuses a run that would mix another model or another sampling spec into it.

The store reads and writes lines as JSON objects; ``Record`` is what one of them means,
and every reader of stored records reads them through it (``Record.from_dict``).
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ponder.backends import identity_spec
from ponder.errors import ConfigError, DataError
from ponder.types import Sample

RECORDS = "records.jsonl"
META = "run.json"


Number = int | float  # as stored: an int stays an int, so a record written again is the same


class Record(BaseModel):
    """One stored outcome: an item (or a context case) run by a strategy on a model.

    ``ponder eval run`` stores the answer (``prediction``, ``correct``, ``confidence``),
    the ``samples``, ``usage``, ``cost`` and ``trace``; a context sweep stores the
    ``output``, its ``score`` and the tokens; a failed one its ``error`` only. Values are
    kept as stored, never coerced. ``to_dict`` writes exactly the fields the line held or
    a writer set (a null stays a null, an absent field stays absent), in this order, then
    any field this type does not name (``model_extra``): a record read and written again
    is the same line. Writers add fields with ``model_copy(update=...)``."""

    model_config = ConfigDict(extra="allow", frozen=True, protected_namespaces=())

    item: dict[str, Any] = {}  # the item as the dataset gave it (a context case: its meta)
    item_hash: str | None = None
    model: str
    model_name: str | None = None  # the served model's name (``backend.model``)
    active_params: Number | None = None
    strategy: str
    error: str | None = None
    prediction: str | None = None
    output: str | None = None
    score: Number | None = None
    correct: bool | None = None
    confidence: Number | None = None
    samples: list[dict[str, Any]] = []
    usage: dict[str, Any] = {}
    cost: dict[str, Any] = {}
    trace: list[Any] | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: Number | None = None
    wall_s: Number | None = None
    finished_at: Number | None = None
    extended: dict[str, Any] | None = None  # set by ``ponder eval extend``

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        """A stored line's record; DataError when it is not one."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            what = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise DataError(f"not a stored record ({what})") from None

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)

    @property
    def item_id(self) -> str:
        return str(self.item.get("id", ""))

    @property
    def key(self) -> tuple[str, str, str]:
        """(item id, model spec, strategy spec): what makes an item of a run unique."""
        return (self.item_id, self.model, self.strategy)

    @property
    def model_label(self) -> str:
        """The served model's name, else the model spec."""
        return self.model_name or self.model

    def to_samples(self) -> list[Sample]:
        return [Sample.from_dict(s) for s in self.samples]


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
        """Write one record durably (fsync) before returning; a write that fails (a full
        disk) is rolled back, so the file never keeps half a line."""
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = _repair(fd)
            try:
                view = memoryview(line.encode("utf-8"))
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, size)
                raise DataError(f"cannot write to {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(fd)

    def _lines(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as file:
            yield from enumerate(file, start=1)

    def records(self) -> list[dict[str, Any]]:
        """The latest record for each key, in the order keys first appeared."""
        latest: dict[tuple[str, str, str], dict[str, Any]] = {}
        lines = list(self._lines())
        for number, line in lines:
            if not line.strip():
                continue
            try:
                record = normalize(json.loads(line))
                key = record_key(record)
            except (json.JSONDecodeError, KeyError, TypeError):
                if number == len(lines) and not line.endswith("\n"):
                    continue  # the last line was cut off: that item reruns
                raise DataError(
                    f"{self.path}:{number}: not a sample record (remove that line to go on)"
                ) from None
            latest[key] = record
        return list(latest.values())

    def finished(self) -> set[tuple[str, str, str]]:
        """Keys of items that finished without error (a rerun skips them)."""
        return {r.key for r in map(Record.from_dict, self.records()) if not r.error}

    def claim(self, meta: dict[str, Any]) -> dict[str, Any]:
        """Record a run's settings in ``run.json``, refusing one that would mix results:
        another model, or another sampling spec, than the directory already holds.
        Live strategies add up (their records are keyed apart); the merged meta."""
        old = self.read_meta()
        model = identity_spec(str(meta["model"]))
        held = {identity_spec(r.model) for r in map(Record.from_dict, self.records())}
        if old.get("model"):
            held.add(identity_spec(str(old["model"])))
        if held and held != {model}:
            raise ConfigError(
                f"{self.directory} holds results of {', '.join(sorted(held))}, not {model}: "
                "use another --out for another model"
            )
        if meta.get("data"):  # the file itself, wherever the run is started from
            meta = {**meta, "data_path": str(Path(str(meta["data"])).resolve())}
        if not _same_items(old, meta):
            raise ConfigError(
                f"{self.directory} holds results on {_items_of(old)}, not {_items_of(meta)}: "
                "use another --out for other items"
            )
        specs = list(dict.fromkeys([*old.get("strategies", []), *meta.get("strategies", [])]))
        sampling = [s for s in specs if s.strip().split(":", 1)[0] == "sample"]
        if len(sampling) > 1:
            raise ConfigError(
                f"{self.directory} holds samples drawn with {sampling[0]}; {sampling[-1]} "
                "would mix two sampling settings: use another --out"
            )
        merged = {**old, **meta, "model": model, "strategies": specs}
        self.write_meta(merged)
        return merged

    def write_meta(self, meta: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        part = self.directory / f"{META}.part"  # a run stopped mid-write keeps the old file
        part.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.replace(part, self.directory / META)

    def read_meta(self) -> dict[str, Any]:
        path = self.directory / META
        if not path.exists():
            return {}
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path} is not valid JSON: {exc}") from exc
        return data if isinstance(data, dict) else {}


def _repair(fd: int) -> int:
    """Cut away a last line left without its newline (a crash, a full disk); the size."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    start = size
    while start > 0:  # read back in 1 MiB chunks to the last newline
        start = max(0, start - (1 << 20))
        cut = os.pread(fd, size - start, start).rfind(b"\n")
        if cut >= 0:
            keep = start + cut + 1
            break
    else:
        keep = 0
    os.ftruncate(fd, keep)
    return keep


def normalize(record: Any) -> Any:
    """A record with its model as an identity spec (no runtime options)."""
    if isinstance(record, dict) and isinstance(record.get("model"), str):
        record["model"] = identity_spec(record["model"])
    return record


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
    mean, so ``Sample.mean_logprob`` (what best-of-N scores) is unchanged. Token ids are
    kept: a cut-off sample continued from them joins exactly (``ponder eval extend``)."""
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
        return [normalize(json.loads(line)) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise DataError(f"{file} holds a line that is not JSON: {exc.msg}") from exc


def _items_of(meta: dict[str, Any]) -> str:
    """What a run's items came from, in words."""
    if meta.get("data"):
        return f"--data {meta['data']}"
    return f"--suite {meta['suite']}" if meta.get("suite") else "no named items"


def _same_items(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a run's items come from where the directory's came from: the same data
    file (by its resolved path; by its name for a run recorded before paths were) or the
    same suite. A run that names neither (``eval extend``) mixes nothing."""
    if not (old.get("data") or old.get("suite")) or not (new.get("data") or new.get("suite")):
        return True
    if old.get("data") and new.get("data"):
        if old.get("data_path") and new.get("data_path"):
            return bool(old["data_path"] == new["data_path"])
        return Path(str(old["data"])).name == Path(str(new["data"])).name
    return not (old.get("data") or new.get("data")) and old.get("suite") == new.get("suite")
