"""Supervised fine-tuning of a small model on distill rows, on CPU, resumably.

The starting weights are the GGUF ponder serves (transformers reads a GGUF and
dequantises it; nothing comes from the Hub), so the student starts from exactly the
model the embedded backend runs. LoRA (peft) by default, full fine-tuning on request.

The loop is ours rather than TRL's ``SFTTrainer``: it needs no ``datasets``/``accelerate``
stack, sets torch's threads explicitly (oversubscribed cores run many times slower), makes
the loss completion-only with the exact prompt rendering of the embedded backend
(``distill.chat``), and checkpoints so that a resumed run replays the same step plan.

    OUT/checkpoint.pt    trainable weights, optimizer, step, losses (atomic, every N steps)
    OUT/adapter/         the LoRA adapter (peft format)   or   OUT/model/ (full)
    OUT/losses.jsonl     one line per step: step, epoch, loss, lr, tokens, seconds
    OUT/train.json       options, base model, rows, tokens, wall time, validation losses
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ponder.distill.base import load_base, require_extra
from ponder.distill.batches import (
    IGNORE,
    Encoded,
    digest,
    encode_all,
    micro_batches,
    plan_steps,
    read_rows,
    split,
)
from ponder.errors import ConfigError
from ponder.models import DEFAULT_MODEL

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
StepHook = Callable[[int, int, float], None]  # (step done, steps in all, its loss)


@dataclass(frozen=True)
class TrainOptions:
    base: str = DEFAULT_MODEL
    method: Literal["lora", "full"] = "lora"
    epochs: int = 2
    lr: float | None = None  # 2e-4 for LoRA, 2e-5 for full fine-tuning
    batch_rows: int = 16
    micro_tokens: int = 2048
    max_length: int = 768
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    warmup: float = 0.05
    val_fraction: float = 0.05
    seed: int = 0
    threads: int = 1
    save_every: int = 25
    bf16: bool = False  # autocast matmuls to bfloat16 (fast on CPUs with AVX512-BF16/AMX)

    def __post_init__(self) -> None:
        if self.method not in ("lora", "full"):
            raise ConfigError(f"method must be lora or full, got {self.method!r}")
        for name in ("epochs", "batch_rows", "micro_tokens", "max_length", "threads"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.lr is not None and not 0 < self.lr < 1:
            raise ConfigError(f"lr must lie in (0, 1), got {self.lr}")

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else (2e-4 if self.method == "lora" else 2e-5)

    def identity(self) -> dict[str, Any]:
        """What must not change when a run resumes (threads and save cadence may)."""
        out = asdict(self)
        out.pop("threads")
        out.pop("save_every")
        return out


@dataclass
class TrainReport:
    out: Path
    base: str
    rows: int
    dropped: int
    train_rows: int
    val_rows: int
    steps: int
    target_tokens: int  # completion tokens seen over all epochs
    tokens: int  # every token through the model, prompts included
    wall_s: float
    losses: list[float] = field(default_factory=list)
    val_loss_before: float | None = None
    val_loss_after: float | None = None
    resumed_from: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["out"] = str(self.out)
        out["losses"] = [round(v, 5) for v in self.losses]
        return out


def lr_at(step: int, total: int, peak: float, warmup: float) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak."""
    warm = max(1, int(total * warmup))
    if step < warm:
        return peak * (step + 1) / warm
    progress = (step - warm) / max(1, total - warm)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train(
    rows_path: str | Path, out: str | Path, options: TrainOptions, on_step: StepHook | None = None
) -> TrainReport:
    require_extra()
    import torch

    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rows = read_rows(rows_path)
    base = load_base(options.base)
    encoded, dropped = encode_all(rows, base.tokenizer, options.max_length)
    train_rows, val_rows = split(encoded, options.val_fraction, options.seed)
    model = _trainable(base.model, options)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=options.learning_rate, weight_decay=0.0)
    steps = plan_steps(len(train_rows), options.epochs, options.batch_rows, options.seed)
    state: dict[str, Any] = {
        "identity": options.identity(),
        "rows": digest(rows),
        "base": str(base.path),
    }
    start, losses, earlier = _resume(folder, model, optimizer, state)
    report = TrainReport(
        folder, str(base.path), len(rows), dropped, len(train_rows), len(val_rows), len(steps),
        0, 0, 0.0, losses, resumed_from=start,
    )  # fmt: skip
    if start == 0:
        earlier["val_loss_before"] = evaluate(model, val_rows, options)
    report.val_loss_before = earlier.get("val_loss_before")
    state.update(val_loss_before=report.val_loss_before)
    began = time.perf_counter()
    done_before = float(earlier.get("wall_s") or 0.0)
    per_epoch = math.ceil(len(train_rows) / options.batch_rows)
    with _loss_log(folder, start) as log:
        for number in range(start, len(steps)):
            lr = lr_at(number, len(steps), options.learning_rate, options.warmup)
            for group in optimizer.param_groups:
                group["lr"] = lr
            tick = time.perf_counter()
            loss, tokens = _step(model, train_rows, steps[number], options)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss)
            entry = {"step": number + 1, "epoch": number // per_epoch + 1, "loss": round(loss, 5)}
            entry.update(lr=lr, tokens=tokens, seconds=round(time.perf_counter() - tick, 3))
            log.write(json.dumps(entry) + "\n")
            log.flush()
            if (number + 1) % options.save_every == 0 and number + 1 < len(steps):
                state["wall_s"] = done_before + time.perf_counter() - began
                _save_checkpoint(folder, model, optimizer, state, number + 1, losses)
            if on_step:
                on_step(number + 1, len(steps), loss)
    report.wall_s = state["wall_s"] = done_before + time.perf_counter() - began
    report.val_loss_after = evaluate(model, val_rows, options)
    epochs_tokens = [(len(e.ids), e.target_tokens) for e in train_rows]
    report.tokens = options.epochs * sum(t for t, _ in epochs_tokens)
    report.target_tokens = options.epochs * sum(t for _, t in epochs_tokens)
    _save_checkpoint(folder, model, optimizer, state, len(steps), losses)
    _save_weights(folder, model, options)
    summary = {"options": asdict(options), "rows_file": str(rows_path), **report.to_dict()}
    (folder / "train.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return report


def _trainable(model: Any, options: TrainOptions) -> Any:
    if options.method == "full":
        model.train()
        return model
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=options.lora_r,
        lora_alpha=options.lora_alpha,
        lora_dropout=options.lora_dropout,
        target_modules=list(LORA_TARGETS),
        task_type="CAUSAL_LM",
    )
    with quiet_peft():
        peft_model = get_peft_model(model, config)
    peft_model.train()
    return peft_model


@contextmanager
def quiet_peft() -> Iterator[None]:
    """peft reads a transformers attribute that transformers 5 deprecates; the warning
    says nothing to our users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`is_gradient_checkpointing` is deprecated")
        yield


def _forward_loss_sum(model: Any, rows: Sequence[Encoded], batch: Sequence[int], bf16: bool) -> Any:
    """Summed cross-entropy over the completion tokens of one micro-batch."""
    import torch

    width = max(len(rows[i].ids) for i in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for k, i in enumerate(batch):
        n = len(rows[i].ids)
        ids[k, :n] = torch.tensor(rows[i].ids)
        labels[k, :n] = torch.tensor(rows[i].labels)
        mask[k, :n] = 1
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=ids, attention_mask=mask).logits
    shifted = logits[:, :-1, :].float().reshape(-1, logits.shape[-1])
    target = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(shifted, target, ignore_index=IGNORE, reduction="sum")


def _step(
    model: Any, rows: Sequence[Encoded], indices: Sequence[int], options: TrainOptions
) -> tuple[float, int]:
    """One optimizer step's gradients; returns its mean completion-token loss and tokens."""
    count = sum(rows[i].target_tokens for i in indices)
    total = 0.0
    for batch in micro_batches(rows, indices, options.micro_tokens):
        loss = _forward_loss_sum(model, rows, batch, options.bf16) / max(1, count)
        loss.backward()
        total += float(loss.detach())
    return total, sum(len(rows[i].ids) for i in indices)


def evaluate(model: Any, rows: Sequence[Encoded], options: TrainOptions) -> float | None:
    """Mean completion-token loss on held-out rows (None without any)."""
    if not rows:
        return None
    import torch

    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        indices = list(range(len(rows)))
        for batch in micro_batches(rows, indices, options.micro_tokens):
            total += float(_forward_loss_sum(model, rows, batch, options.bf16))
            count += sum(rows[i].target_tokens for i in batch)
    if was_training:
        model.train()
    return total / max(1, count)


def _loss_log(folder: Path, start: int) -> Any:
    """The per-step loss log, cut back to the checkpoint's step when resuming."""
    file = folder / "losses.jsonl"
    lines = file.read_text(encoding="utf-8").splitlines()[:start] if file.exists() else []
    file.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return file.open("a", encoding="utf-8")


def _save_checkpoint(
    folder: Path, model: Any, optimizer: Any, state: dict[str, Any], step: int, losses: list[float]
) -> None:
    import torch

    weights = {k: v for k, v in model.named_parameters() if v.requires_grad}
    payload = {**state, "step": step, "losses": losses, "optimizer": optimizer.state_dict()}
    payload["weights"] = {k: v.detach().clone() for k, v in weights.items()}
    part = folder / "checkpoint.pt.part"
    torch.save(payload, part)
    part.replace(folder / "checkpoint.pt")


def _resume(
    folder: Path, model: Any, optimizer: Any, state: dict[str, Any]
) -> tuple[int, list[float], dict[str, Any]]:
    """The step to start from (0 for a new run), the losses so far, and what the earlier
    attempt measured (validation loss before training, wall time)."""
    import torch

    file = folder / "checkpoint.pt"
    if not file.exists():
        return 0, [], {}
    saved = torch.load(file, weights_only=False)
    for key in ("identity", "rows", "base"):
        if saved.get(key) != state[key]:
            raise ConfigError(
                f"{folder} holds a run with other {'options' if key == 'identity' else key}: "
                "use a new --out, or delete the folder to start over"
            )
    named = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in saved["weights"].items():
            named[name].copy_(value)
    optimizer.load_state_dict(saved["optimizer"])
    earlier = {k: saved.get(k) for k in ("val_loss_before", "wall_s")}
    return int(saved["step"]), list(saved["losses"]), earlier


def _save_weights(folder: Path, model: Any, options: TrainOptions) -> None:
    target = folder / ("adapter" if options.method == "lora" else "model")
    if options.method == "lora":  # the base's embeddings are untouched: no need to look
        model.save_pretrained(str(target), save_embedding_layers=False)
    else:
        model.save_pretrained(str(target))
