"""The wire types of ``/v1/completions``."""

from __future__ import annotations

from pydantic import Field

from ponder.backends.wire import JsonInt
from ponder.server.protocol import SamplingFields

Prompt = str | list[str] | list[JsonInt] | list[list[JsonInt]]


class CompletionRequest(SamplingFields):
    prompt: Prompt = Field(
        min_length=1, description="text, or token ids (pass-through models only)"
    )
    max_tokens: JsonInt | None = Field(
        None, ge=0, le=1_000_000, description="0 with echo scores the prompt only"
    )
    echo: bool = False
    suffix: str | None = None
    logprobs: JsonInt | None = Field(None, ge=0, le=5)
    best_of: JsonInt | None = Field(None, ge=1, le=20)
