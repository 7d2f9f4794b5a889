"""Parameter counts read from a GGUF file's header, without the ``gguf`` package.

The header (little-endian; ggml's ``docs/gguf.md``)::

    magic "GGUF" | version uint32 | tensor count uint64 | metadata count uint64
    metadata, each: key (string) | value type uint32 | value
    tensor infos, each: name (string) | n_dims uint32 | dims uint64 x n_dims | type uint32
                        | offset uint64

A string is its byte length (uint64) then UTF-8 bytes; an array is its element type
(uint32), its length (uint64) and the elements. Version 1 wrote uint32 where later ones
write uint64 for counts and lengths. Only the header is read: tensor data is never
touched, so a count costs a few milliseconds even for a large model.
"""

from __future__ import annotations

import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ponder.errors import ArchitectureError

MAGIC = b"GGUF"
MAX_DIMS = 8  # ggml uses 4; a little room for a later format
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?"}
_SCALARS |= {10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9
EMBEDDING, HEAD = "token_embd.weight", "output.weight"


@dataclass(frozen=True)
class Tensor:
    name: str
    shape: tuple[int, ...]  # as GGUF stores it: the innermost dimension first

    @property
    def elements(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Header:
    """A GGUF header: its scalar and string metadata (arrays, such as the tokenizer's
    vocabulary, are skipped) and every tensor's name and shape."""

    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: list[Tensor] = field(default_factory=list)


@dataclass(frozen=True)
class Params:
    """``total``: every tensor, the embedding matrix once; ``active``: what one token
    uses (a mixture of experts' routed experts scaled by ``expert_used_count /
    expert_count``). When the file stores an output head beside an input embedding of
    the same shape (an untied head), the embedding is the lookup and only the head is
    counted: the input lookup does no multiply, so both figures are the planner's
    ``active_matmul`` and the registry's (Qwen2.5-Coder-1.5B: 1,543,714,304)."""

    total: int
    active: int


class _Reader:
    """Reads the header out of a memory map: only the pages it touches are loaded."""

    def __init__(self, data: mmap.mmap | bytes, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0
        self.wide = True  # uint64 counts (version 2 on)

    def fail(self, why: str) -> ArchitectureError:
        return ArchitectureError(f"{self.path} is not a readable GGUF file: {why}")

    def skip(self, n: int) -> int:
        """The position of the ``n`` bytes skipped."""
        start, self.pos = self.pos, self.pos + n
        if self.pos > len(self.data):
            raise self.fail("it ends inside its header")
        return start

    def take(self, n: int) -> bytes:
        return bytes(self.data[self.skip(n) : self.pos])

    def unpack(self, fmt: str) -> Any:
        return struct.unpack_from(fmt, self.data, self.skip(struct.calcsize(fmt)))[0]

    def count(self, what: str, each: int = 1) -> int:
        """A count or length, refused when ``each``-byte items of it cannot fit the file."""
        n = int(self.unpack("<Q" if self.wide else "<I"))
        if n * each > len(self.data) - self.pos:
            raise self.fail(f"it declares {n} {what}, more than the file can hold")
        return n

    def string(self) -> str:
        return self.take(self.count("bytes of a string")).decode("utf-8", "replace")

    def value(self, kind: int) -> Any:
        """A scalar or string; an array is skipped (None)."""
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == STRING:
            return self.string()
        if kind != ARRAY:
            raise self.fail(f"unknown metadata type {kind}")
        inner = int(self.unpack("<I"))
        n = self.count("array elements")
        if inner in _SCALARS:
            self.skip(n * struct.calcsize(_SCALARS[inner]))
        elif inner == STRING:
            for _ in range(n):  # a vocabulary: 150,000 strings, skipped unread
                self.skip(self.count("bytes of a string"))
        else:
            for _ in range(n):
                self.value(inner)
        return None

    def tensor(self) -> Tensor:
        name = self.string()
        dims = int(self.unpack("<I"))
        if dims > MAX_DIMS:
            raise self.fail(f"tensor {name!r} has {dims} dimensions")
        shape = struct.unpack_from(f"<{dims}Q", self.data, self.skip(8 * dims))
        self.skip(12)  # the tensor's type (uint32) and data offset (uint64)
        return Tensor(name, tuple(int(d) for d in shape))


def read_header(path: str | Path) -> Header:
    """The metadata and tensor shapes of a GGUF file (raises ``ArchitectureError``)."""
    file = Path(path)
    with file.open("rb") as handle:
        if file.stat().st_size == 0:
            return _parse(_Reader(b"", file))
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse(_Reader(data, file))


def _parse(reader: _Reader) -> Header:
    if reader.take(4) != MAGIC:
        raise reader.fail("it does not start with 'GGUF'")
    version = int(reader.unpack("<I"))
    if version not in (1, 2, 3):
        raise reader.fail(f"version {version} (ponder reads versions 1 to 3)")
    reader.wide = version > 1
    tensors = reader.count("tensors", each=8)
    entries = reader.count("metadata entries", each=8)
    metadata = {}
    for _ in range(entries):
        key = reader.string()
        value = reader.value(int(reader.unpack("<I")))
        if value is not None:
            metadata[key] = value
    return Header(version, metadata, [reader.tensor() for _ in range(tensors)])


def count_params(header: Header) -> Params:
    """``Params`` of a header (see there for what is counted)."""
    shapes = {t.name: t.shape for t in header.tensors}
    untied = EMBEDDING in shapes and shapes.get(HEAD) == shapes[EMBEDDING]
    arch = str(header.metadata.get("general.architecture", ""))
    experts = int(header.metadata.get(f"{arch}.expert_count") or 0)
    used = int(header.metadata.get(f"{arch}.expert_used_count") or experts)
    total = active = 0
    for tensor in header.tensors:
        if untied and tensor.name == EMBEDDING:
            continue
        total += tensor.elements
        routed = "_exps." in tensor.name and experts > 0
        active += tensor.elements * used // experts if routed else tensor.elements
    return Params(total, active)


def gguf_params(path: str | Path) -> Params:
    """The parameter counts a GGUF file states through its tensors' shapes."""
    return count_params(read_header(path))
