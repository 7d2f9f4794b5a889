"""A GGUF file written for tests: the header only, with the tensor shapes and metadata
asked for (see ``ponder.deploy.gguf`` for the layout)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

_TYPES = {int: 4, str: 8, float: 6, bool: 7}  # uint32, string, float32, bool


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _value(value: Any) -> bytes:
    if isinstance(value, list):  # an array of strings (a tokenizer's vocabulary)
        items = b"".join(_string(v) for v in value)
        return struct.pack("<IQ", 8, len(value)) + items
    if isinstance(value, bool):
        return struct.pack("<?", value)
    if isinstance(value, int):
        return struct.pack("<I", value)
    if isinstance(value, float):
        return struct.pack("<f", value)
    return _string(value)


def write_gguf(
    path: Path, tensors: dict[str, tuple[int, ...]], metadata: dict[str, Any] | None = None
) -> Path:
    """A GGUF v3 file with these tensor shapes (innermost dimension first, as GGUF stores
    them) and metadata, and no tensor data: the header is all that is read."""
    meta = {"general.architecture": "llama", **(metadata or {})}
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta))
    for key, value in meta.items():
        kind = 9 if isinstance(value, list) else _TYPES[type(value)]
        out += _string(key) + struct.pack("<I", kind) + _value(value)
    for offset, (name, dims) in enumerate(tensors.items()):
        out += _string(name) + struct.pack("<I", len(dims))
        out += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", 2, 32 * offset)
    path.write_bytes(out)
    return path
