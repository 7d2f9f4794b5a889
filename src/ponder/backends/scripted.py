"""Deterministic backends shipped in the library: a scripted fake and a replayer.

``ScriptedBackend`` answers from a script (a mapping of question text to outputs,
a list of outputs, or a function), so strategies, the router, the harness and the
proxy can be tested and demonstrated without a model. ``ReplayBackend`` serves
samples stored by an earlier run, in order, so any strategy can be replayed offline.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ponder.backends import wire
from ponder.backends.base import BaseBackend, check_n, new_request_id
from ponder.errors import BackendUnavailableError, ConfigError, DataError, UnsupportedOptionError
from ponder.types import Message, Sample, SamplingParams, last_user_text

Output = str | Mapping[str, Any]
ScriptFn = Callable[[str, SamplingParams, int], Output]
Script = Mapping[str, Output | Sequence[Output]] | Sequence[Output] | ScriptFn | None


def _text_message(raw: Any) -> Message:
    """A raw chat message with its content as text; the fake reads text parts only."""
    message = Message.from_dict(raw)
    content = message.content
    if isinstance(content, list):
        if not all(
            isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
            for p in content
        ):
            raise ConfigError("the scripted backend takes text content only: send text parts")
        message = Message(message.role, "\n".join(p["text"] for p in content), message.extra)
    elif content is not None and not isinstance(content, str):
        raise ConfigError("a message's content must be a string or a list of text parts")
    return message


def count_tokens(text: str) -> int:
    """The fake tokenizer: one token per whitespace-separated word (at least one)."""
    return max(1, len(text.split()))


class ScriptedBackend(BaseBackend):
    """A deterministic fake model.

    * mapping: the last user message (exact, else the first key it contains) picks a
      list of outputs; sample k of the question's draws gets output k modulo its length;
    * list: the same outputs for every question;
    * function ``f(question, params, k) -> output``.

    An output is a string or ``{"text": ..., "logprob": mean token logprob}``.
    Greedy calls (temperature 0) always get the first output. ``fail_first`` makes
    the first calls raise, to test error handling. Every call is recorded in ``calls``.

    ``continue_text`` (the ``Continues`` contract) goes on with the first of the
    question's outputs whose words begin with the prefix's words, so a sample cut at
    a small ``max_tokens`` and continued equals the one drawn with a large one.
    """

    supports_n = True
    supports_logprobs = True

    def __init__(
        self,
        script: Script = None,
        *,
        default: str = "I don't know.",
        model: str = "scripted",
        latency_s: float = 0.0,
        fail_first: int = 0,
        active_params: float | None = None,
    ) -> None:
        self.script = script
        self.default = default
        self.model = model
        self.name = f"scripted:{model}"
        self.latency_s = latency_s
        self.fail_first = fail_first
        self.active_params = active_params
        self.calls: list[dict[str, Any]] = []
        self._drawn: dict[str, int] = defaultdict(int)

    def _outputs_for(self, question: str) -> Sequence[Output] | ScriptFn:
        script = self.script
        if script is None:
            return [self.default]
        if callable(script):
            return script
        if isinstance(script, Mapping):
            found = script.get(question)
            if found is None:
                found = next((v for k, v in script.items() if k and k in question), None)
            if found is None:
                return [self.default]
            return [found] if isinstance(found, (str, Mapping)) else found
        return script

    def _draw(self, question: str, params: SamplingParams, k: int) -> Output:
        outputs = self._outputs_for(question)
        if callable(outputs):
            return outputs(question, params, k)
        if params.temperature == 0.0:
            return outputs[0]
        return outputs[k % len(outputs)]

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        check_n(n)
        self.calls.append({"messages": list(messages), "params": params, "n": n})
        if self.fail_first > 0:
            self.fail_first -= 1
            raise BackendUnavailableError(f"{self.name} is scripted to fail this call")
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        question = last_user_text(messages)
        prompt_tokens = sum(count_tokens(m.content or "") for m in messages)
        request_id = new_request_id()
        samples = []
        for _ in range(n):
            k = self._drawn[question]
            self._drawn[question] += 1
            samples.append(self._sample(self._draw(question, params, k), params, request_id))
            samples[-1].prompt_tokens = prompt_tokens
        return samples

    async def continue_text(
        self,
        messages: Sequence[Message],
        prefix: str,
        params: SamplingParams,
        prefix_ids: Sequence[int] | None = None,
    ) -> Sample:
        """The rest of the first scripted output that begins with ``prefix`` (by words),
        cut at ``max_tokens``; an empty, stopped sample when no output does."""
        call = {"messages": list(messages), "params": params, "prefix": prefix}
        self.calls.append({**call, "prefix_ids": prefix_ids})
        question = last_user_text(messages)
        outputs = self._outputs_for(question)
        listed = [outputs(question, params, 0)] if callable(outputs) else list(outputs)
        begun = prefix.split()
        for output in listed:
            text = str(output.get("text", "")) if isinstance(output, Mapping) else str(output)
            words = text.split()
            if words[: len(begun)] == begun and len(words) > len(begun):
                rest = " ".join(words[len(begun) :])
                rest = f" {rest}" if begun else rest
                found = {**output, "text": rest} if isinstance(output, Mapping) else rest
                sample = self._sample(found, params, new_request_id())
                sample.prompt_tokens = sum(count_tokens(m.content or "") for m in messages)
                sample.prompt_tokens += len(begun)  # the prompt with the reply begun
                if begun and not sample.text.startswith(" "):
                    sample.text = f" {sample.text}"  # the word break at the join
                return sample
        return Sample(text="", request_id=new_request_id(), model=self.model, token_logprobs=[])

    def _sample(self, output: Output, params: SamplingParams, request_id: str) -> Sample:
        if isinstance(output, Mapping):
            text = str(output.get("text", ""))
            mean = float(output.get("logprob", -1.0))
        else:
            text, mean = str(output), -1.0
        words = text.split()
        tokens = count_tokens(text)
        words = words[: params.max_tokens]
        finish = "length" if tokens > params.max_tokens else "stop"
        return Sample(
            text=" ".join(words) if finish == "length" else text,
            request_id=request_id,
            completion_tokens=min(tokens, params.max_tokens),
            finish_reason=finish,
            token_logprobs=[mean] * min(tokens, params.max_tokens),
            latency_s=self.latency_s,
            seed=params.seed,
            temperature=params.temperature,
            model=self.model,
        )

    async def chat_raw(self, body: dict[str, Any]) -> dict[str, Any]:
        """A chat body answered from the script: ``n``, the token limit, greedy
        ``temperature`` and ``stop`` are honoured; what a fake that returns plain text
        cannot honour (tools, logprobs, response_format, ...) raises."""
        if (field := wire.unhonoured(body)) is not None:
            raise UnsupportedOptionError(
                f"{field[:60]} cannot be honoured by the scripted backend {self.name!r}: it "
                "answers plain text from its script; drop the field or serve a real model",
                field,
            )
        self.calls.append({"raw": body})
        messages = [_text_message(m) for m in body.get("messages", [])]
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or 256
        stop = body.get("stop")
        params = SamplingParams(
            temperature=float(body.get("temperature", 1.0) or 0.0),
            max_tokens=int(limit),
            stop=tuple([stop] if isinstance(stop, str) else stop or ()),
        )
        samples = await self.generate(messages, params, int(body.get("n") or 1))
        self.calls.pop()
        for sample in samples:
            found = [i for i in (sample.text.find(s) for s in params.stop if s) if i >= 0]
            if found:
                sample.text, sample.finish_reason = sample.text[: min(found)], "stop"
        return wire.response_from_samples(samples, self.model)

    async def stream_raw(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        response = await self.chat_raw(body)
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        for item in wire.response_chunks(response, usage, pieces=2):
            yield item


class ReplayBackend(BaseBackend):
    """Serves stored samples per question, in the order they were drawn.

    ``samples`` maps the question text to its stored samples. Greedy requests get
    the stored greedy samples (temperature 0) and sampled requests the others. A
    request for more samples than were stored raises DataError.
    """

    supports_n = True
    supports_logprobs = True

    def __init__(self, samples: Mapping[str, Sequence[Sample]], model: str = "replay") -> None:
        self.model = model
        self.name = f"replay:{model}"
        self._stored = {q: list(s) for q, s in samples.items()}
        self._used: dict[tuple[str, bool], int] = defaultdict(int)

    async def generate(
        self, messages: Sequence[Message], params: SamplingParams, n: int = 1
    ) -> list[Sample]:
        check_n(n)
        question = last_user_text(messages)
        if question not in self._stored:
            raise DataError(f"no stored samples for question {question[:60]!r}")
        greedy = params.temperature == 0.0
        pool = [s for s in self._stored[question] if (s.temperature == 0.0) == greedy]
        start = self._used[(question, greedy)]
        if start + n > len(pool):
            raise DataError(
                f"only {len(pool)} stored {'greedy' if greedy else 'sampled'} samples for "
                f"{question[:60]!r}; {start + n} were asked: sample more in the run"
            )
        self._used[(question, greedy)] = start + n
        return pool[start : start + n]


def load_script(path: str) -> ScriptedBackend:
    """A scripted backend from a JSON file: {"question": ["output", ...], ...} or a list."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"scripted backend file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"scripted backend file {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, (dict, list)):
        raise ConfigError(f"{path} must hold an object of question -> outputs, or a list")
    return ScriptedBackend(data, model=file.stem)
