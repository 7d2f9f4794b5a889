"""Token-count parsing and human-readable formatting of bytes and counts."""

from __future__ import annotations

import re

from ponder.errors import PlanError

GIB = 1024**3
MIB = 1024**2

# vLLM's convention for human-readable lengths: lower case is decimal, upper case binary.
_SUFFIXES = {"k": 1000, "m": 1000**2, "g": 1000**3, "K": 1024, "M": 1024**2, "G": 1024**3}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)\s*$")


def parse_tokens(value: str | int) -> int:
    """Parse a token count such as ``32768``, ``32k`` (32,000) or ``128K`` (131,072).

    Lower-case suffixes are powers of 1000 and upper-case ones powers of 1024, as in
    vLLM's ``--max-model-len``.
    """
    if isinstance(value, int):
        number = value
    else:
        match = _PATTERN.match(value)
        if match is None:
            raise PlanError(
                f"cannot read {value!r} as a token count; write e.g. 32768, 32k (32,000) "
                "or 128K (131,072)"
            )
        number = int(float(match.group(1)) * _SUFFIXES.get(match.group(2), 1))
    if number <= 0:
        raise PlanError(f"token count must be positive, got {value!r}; pass a count above 0")
    return number


def gib(n_bytes: float) -> float:
    """Bytes to GiB."""
    return n_bytes / GIB


def fmt_bytes(n_bytes: float) -> str:
    """Format bytes as GiB, MiB or KiB, whichever reads best."""
    if abs(n_bytes) >= GIB:
        return f"{n_bytes / GIB:,.2f} GiB"
    if abs(n_bytes) >= MIB:
        return f"{n_bytes / MIB:,.1f} MiB"
    if abs(n_bytes) >= 1024:
        return f"{n_bytes / 1024:,.1f} KiB"
    return f"{n_bytes:,.0f} B"


def fmt_count(n: float) -> str:
    """Format a parameter or token count with a B/M/K suffix."""
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:,.2f}{unit}"
    return f"{n:,.0f}"
