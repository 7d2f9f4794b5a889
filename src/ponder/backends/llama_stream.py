"""Bookkeeping of the embedded backend's streamed llama.cpp requests: what is running
(``Activity``) and the stream chunks of one request merged back into a response
(``Merged``, for chat and raw-completion chunks alike)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from ponder.errors import BackendError


class Activity:
    """What this backend has running inside llama.cpp right now (``requests``) and how
    many stream chunks (about one per token per sample) it has received in all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.chunks = 0

    def chunk(self, count: int = 1) -> None:
        with self._lock:
            self.chunks += count

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        with self._lock:
            self.requests += 1
        try:
            yield
        finally:
            with self._lock:
                self.requests -= 1


class Merged:
    """Stream chunks of one request merged back into a chat-completions response."""

    def __init__(self) -> None:
        self.text: dict[int, list[str]] = {}
        self.logprobs: dict[int, list[Any]] = {}
        self.finish: dict[int, Any] = {}
        self.head: dict[str, Any] = {}
        self.error: Any = None

    def add(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            return
        if "error" in chunk:
            self.error = chunk["error"]
            return
        self.head.update(
            {k: v for k, v in chunk.items() if k in ("id", "usage", "model", "timings")}
        )
        for choice in chunk.get("choices") or []:
            index = int(choice.get("index") or 0)
            delta = choice.get("delta")  # a chat chunk; a completion chunk has "text"
            piece = (delta or {}).get("content") if delta is not None else choice.get("text")
            self.text.setdefault(index, []).append(piece or "")
            content = (choice.get("logprobs") or {}).get("content") or []
            self.logprobs.setdefault(index, []).extend(content)
            if choice.get("finish_reason"):
                self.finish[index] = choice["finish_reason"]

    def response(self) -> dict[str, Any]:
        if self.error is not None:
            raise BackendError(f"the embedded model failed: {self.error!r:.200}")
        choices = [
            {
                "index": i,
                "message": {"role": "assistant", "content": "".join(self.text[i])},
                "finish_reason": self.finish.get(i, "stop"),
                "logprobs": {"content": self.logprobs.get(i, [])},
            }
            for i in sorted(self.text)
        ]
        return {**self.head, "object": "chat.completion", "choices": choices}
