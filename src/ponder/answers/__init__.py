"""Pull final answers out of messy model outputs and put them in canonical form.

``extract_answer`` tries explicit markers first, in this order, each from its last occurrence
back (models restate): ``\\boxed{...}``, ``[답: X]`` / ``답: X``, GSM8K ``#### X``, then
"Answer: X" / "The (final) answer is X".  Without a usable marker it falls back to the last
number (kind "number"), the last choice reference (kind "choice") or the last non-empty line
(kind "text").  Answers come back in the form ``normalize`` gives, so equal answers give equal
vote keys, and ``answers_match`` grades them against gold answers with a numeric tolerance.
"""

from __future__ import annotations

from ponder.answers.extract import extract_answer, sample_answer
from ponder.answers.normalize import answers_match, detect_kind, normalize
from ponder.answers.numbers import KINDS, parse_number

__all__ = [
    "KINDS",
    "answers_match",
    "detect_kind",
    "extract_answer",
    "normalize",
    "parse_number",
    "sample_answer",
]
