"""The prompt text the embedded backend feeds the model, rendered the same way for training.

The embedded backend runs llama.cpp with its built-in ChatML template (``jinja`` off, see
``backends/embedded.py``), and both embedded models use ChatML. Training must see the
very tokens inference sees, so the student learns to continue the prompt it will get:

    <|im_start|>user
    QUESTION<|im_end|>
    <|im_start|>assistant
    PATH<|im_end|>

No default system prompt is added (SmolLM2's Jinja template would add one), no BOS (the
GGUF says ``add_bos_token`` false). The prompt and the completion are tokenised apart,
as llama.cpp does when it generates after the prompt; the loss is on the completion and
its end marker only. The round-trip test (HF weights -> GGUF -> embedded backend gives
transformers' greedy tokens) checks all of this against llama.cpp itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

START, END = "<|im_start|>", "<|im_end|>"


def render_prompt(messages: Sequence[dict[str, Any]]) -> str:
    """The ChatML text of ``messages`` followed by the assistant's opening."""
    parts = [f"{START}{m['role']}\n{m['content']}{END}\n" for m in messages]
    return "".join(parts) + f"{START}assistant\n"


def render_completion(text: str) -> str:
    """The assistant's reply as the model should produce it: the text, then the end marker."""
    return f"{text}{END}"
