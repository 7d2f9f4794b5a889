"""Distillation: a teacher's verified reasoning paths become a small model's training data.

    ponder distill generate --suite arith,compare,count --seed 1 --out runs/teacher --to rows.jsonl
    ponder distill train rows.jsonl --out runs/student          # LoRA on CPU, resumable
    ponder distill export runs/student --name smollm2-135m-distilled
    ponder ask --model embedded:smollm2-135m-distilled "..."

``data``/``generate`` choose the rows (gold answer, self-consistency agreement, a scorer;
near-duplicates dropped, a cap per question, provenance on every row, held-out questions
excluded); ``train`` fine-tunes with completion-only loss (torch, transformers, peft:
``pip install 'ponder[distill]'``); ``export`` writes a GGUF the embedded backend runs.
The modules that need torch import it inside their functions.
"""

from ponder.distill.data import RowOptions, keep_paths
from ponder.distill.generate import build_rows, held_out_keys, write_rows

__all__ = ["RowOptions", "build_rows", "held_out_keys", "keep_paths", "write_rows"]
