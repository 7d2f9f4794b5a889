"""Token counts in the model's own tokens where the backend can say, estimated where not.

A tokenizer here answers one question: where does each token of a text start
(character offsets)? From that, counts and token-exact cut points follow.

* ``HttpTokenizer`` asks the server behind a backend: llama.cpp's ``POST /tokenize``
  with ``with_pieces`` (the embedded backend and ``llama-server``), or vLLM's
  ``POST /tokenize`` with ``return_token_strs``. Exact.
* ``EstimateTokenizer`` splits words, digits and punctuation the way BPE
  tokenizers mostly do for English. Within ~15% of real counts; marked estimated.

``tokenizer_for(backend)`` picks the first that works and says which (``source``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any, Protocol, runtime_checkable

import httpx

from ponder.backends.base import Backend, Served
from ponder.errors import BackendError

_ESTIMATE = re.compile(r" ?[A-Za-z]{1,8}| ?\d| ?[^\sA-Za-z\d]|\s+")


@runtime_checkable
class Tokenizer(Protocol):
    source: str
    exact: bool

    def offsets(self, text: str) -> list[int]:
        """The character offset at which each token of ``text`` starts."""
        ...


def count(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.offsets(text))


def tokens_before(offsets: list[int], position: int) -> int:
    """How many tokens start before character ``position``."""
    return bisect_left(offsets, position)


class EstimateTokenizer:
    """Words of up to 8 letters, single digits and punctuation marks, each one token."""

    source = "estimated (no tokenizer reachable)"
    exact = False

    def offsets(self, text: str) -> list[int]:
        return [m.start() for m in _ESTIMATE.finditer(text)]


class HttpTokenizer:
    """A server's ``/tokenize`` endpoint (llama.cpp or vLLM flavour)."""

    exact = True

    def __init__(self, root: str, flavour: str, model: str = "", timeout_s: float = 30.0) -> None:
        self.root = root.rstrip("/")
        self.flavour = flavour
        self.model = model
        self.source = f"{flavour} /tokenize at {self.root}"
        self.timeout_s = timeout_s

    def _body(self, text: str) -> dict[str, Any]:
        if self.flavour == "llama.cpp":
            return {"content": text, "with_pieces": True, "add_special": False}
        return {
            "model": self.model,
            "prompt": text,
            "return_token_strs": True,
            "add_special_tokens": False,
        }

    def offsets(self, text: str) -> list[int]:
        try:
            response = httpx.post(
                f"{self.root}/tokenize", json=self._body(text), timeout=self.timeout_s
            )
            response.raise_for_status()
            pieces = _pieces(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise BackendError(f"tokenizing through {self.root} failed: {exc}") from exc
        out, position = [], 0
        for piece in pieces:
            out.append(position)
            position += len(piece)
        return out


def _pieces(data: Any) -> list[str]:
    """Token strings from a llama.cpp or vLLM tokenize response; ValueError otherwise."""
    if isinstance(data, dict) and isinstance(data.get("token_strs"), list):
        strs = data["token_strs"]  # vLLM: byte-level pieces ("Ġthe") map spaces to "Ġ"
        return [str(s).replace("Ġ", " ").replace("Ċ", "\n").replace("▁", " ") for s in strs]
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, list) or (tokens and not isinstance(tokens[0], dict)):
        raise ValueError("the response carries no token pieces")
    return [_piece_text(t.get("piece", "")) for t in tokens]


def _piece_text(piece: Any) -> str:
    if isinstance(piece, list):  # llama.cpp sends bytes of an incomplete UTF-8 character
        return bytes(piece).decode("utf-8", errors="ignore")
    return str(piece)


def _probe(tokenizer: HttpTokenizer) -> bool:
    try:
        return len(tokenizer.offsets("Hello world. The cat.")) >= 4
    except BackendError:
        return False


def tokenizer_for(backend: Any) -> Tokenizer:
    """The backend's own tokenizer when its server exposes one, else the estimate."""
    base = backend.base_url if isinstance(backend, Served) else None
    if isinstance(base, str) and base.startswith(("http://", "https://")):
        root = base[:-3] if base.rstrip("/").endswith("/v1") else base
        model = str(backend.model or "") if isinstance(backend, Backend) else ""
        for flavour in ("llama.cpp", "vllm"):
            candidate = HttpTokenizer(root.rstrip("/"), flavour, model)
            if _probe(candidate):
                return candidate
    return EstimateTokenizer()
