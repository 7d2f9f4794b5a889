"""The wire types of ``/v1/chat/completions``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ponder.backends.wire import JsonInt
from ponder.server.protocol import OpenAIBaseModel, Role, SamplingFields


class ChatMessage(OpenAIBaseModel):
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class ChatCompletionRequest(SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: JsonInt | None = Field(None, ge=1, le=1_000_000)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: JsonInt | None = Field(None, ge=0, le=20)
    response_format: dict[str, Any] | None = None

    @property
    def completion_budget(self) -> int | None:
        """The larger of the two limits: upstreams differ in which one they honour."""
        limits = [t for t in (self.max_completion_tokens, self.max_tokens) if t is not None]
        return max(limits, default=None)
