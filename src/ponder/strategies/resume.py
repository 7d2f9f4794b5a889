"""Resuming a sample cut at its budget: the same request going on from its text.

Sampling is autoregressive: a sample that stopped at ``max_tokens`` and is continued
from where it stopped, with the same temperature and top-p, is distributed exactly like
one drawn with the larger budget. Two drivers use this one mechanism: ``draw`` (live:
a sample drawn at a default budget is resumed up to ``SamplingParams.ceiling``, see
``ponder.budgets``) and ``ponder eval extend`` (stored runs carried to a larger budget).

A resumed sample is one sample: its text, completion tokens, token logprobs and ids run
on, and it is counted as a single draw at the larger budget would be. The prompt a
resumption re-sends (the prompt and the text begun) is not charged again: llama.cpp
serves it from the slot's prompt cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from ponder.answers import sample_answer
from ponder.backends.base import Continues
from ponder.types import Message, Sample, SamplingParams


def merge(sample: Sample, more: Sample) -> Sample:
    """``sample`` continued by ``more`` (the new part): one sample as if drawn at once."""
    tokens = sample.completion_tokens + more.completion_tokens
    logprobs = sample.token_logprobs
    added = more.token_logprobs or []
    if logprobs is not None and len(logprobs) == sample.completion_tokens:
        logprobs = [*logprobs, *added]
    elif logprobs:  # stored as their mean: keep one mean, weighted by tokens
        total = (sum(logprobs) / len(logprobs)) * sample.completion_tokens + sum(added)
        logprobs = [round(total / max(tokens, 1), 5)]
    if sample.token_ids is not None and more.token_ids is not None:
        sample.token_ids = [*sample.token_ids, *more.token_ids]
    else:
        sample.token_ids = None
    sample.text += more.text
    sample.completion_tokens = tokens
    sample.finish_reason = more.finish_reason
    sample.token_logprobs = logprobs
    sample.latency_s += more.latency_s
    return sample


def needs_resuming(sample: Sample, ceiling: int) -> bool:
    """Cut below ``ceiling`` before stating an answer (a final-answer marker on a
    finished line): a cut sample that has stated one keeps it and needs no more."""
    return (
        sample.truncated
        and sample.completion_tokens < ceiling
        and sample_answer(sample.text, "auto", None, truncated=True) is None
    )


async def resume(
    backend: Continues,
    messages: Sequence[Message],
    sample: Sample,
    params: SamplingParams,
    ceiling: int,
) -> Sample:
    """The rest of ``sample`` (the new part only), drawn as ``params`` say up to
    ``ceiling`` completion tokens in all; ``merge`` joins it."""
    rest = replace(params, max_tokens=ceiling - sample.completion_tokens, ceiling=None)
    return await backend.continue_text(messages, sample.text, rest, sample.token_ids)


async def resume_cut(
    backend: Continues, messages: Sequence[Message], samples: list[Sample], params: SamplingParams
) -> None:
    """Resume, in place and concurrently, every sample of ``samples`` that needs it
    (``needs_resuming``) up to ``params.ceiling``. With a seed, each resumption gets its
    own (the seed plus its place), so no two go on with one random stream."""
    ceiling = params.ceiling or params.max_tokens
    cut = [s for s in samples if needs_resuming(s, ceiling)]
    seeds = [None if params.seed is None else params.seed + 1 + k for k in range(len(cut))]
    more = await asyncio.gather(
        *(
            resume(backend, messages, s, replace(params, seed=seed), ceiling)
            for s, seed in zip(cut, seeds, strict=True)
        )
    )
    for sample, rest in zip(cut, more, strict=True):
        merge(sample, rest)
