"""Wire types every endpoint shares (the base model, sampling fields, the ``ponder``
extension, errors, readiness); each endpoint's request is in its folder
(``chat.protocol``, ``completions.protocol``).

Models validate without coercion (``"n": "2"`` is an error, not 2; ``2.0`` is the
integer 2, as JSON Schema has it) and allow
unknown fields: a pass-through request forwards them untouched, a strategy
request ignores them and says so in the log and in ``ponder.ignored``. The raw
body, not a re-serialised model, is what a pass-through request forwards.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ponder.backends.wire import JsonInt
from ponder.context.apply import ContextOptions
from ponder.server.errors import ApiError

Role = Literal["system", "user", "assistant", "tool", "developer", "function"]
INT64 = 2**63


class OpenAIBaseModel(BaseModel):
    """Strict types; unknown fields are kept in ``model_extra``."""

    model_config = ConfigDict(extra="allow", strict=True)

    def unknown_fields(self) -> list[str]:
        return sorted(self.model_extra or {})


RequestT = TypeVar("RequestT", bound=OpenAIBaseModel)


class StreamOptions(OpenAIBaseModel):
    include_usage: bool = False


class PonderOptions(BaseModel):
    """The ``ponder`` extension (``extra_body={"ponder": {...}}`` in the OpenAI SDK)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    strategy: str | None = Field(
        None, min_length=1, max_length=200, description="strategy spec, e.g. sc:n=8,stop=esc"
    )
    n: JsonInt | None = Field(None, ge=1, le=256, description="sample budget of the strategy")
    early_stop: str | bool | None = Field(
        None, description="stopping rule (esc, beta, margin, fixed); true means esc"
    )
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="further strategy options, e.g. {'weighted': true}"
    )
    context: ContextOptions | None = Field(
        None,
        description="reorder and pack the request's <document> blocks, e.g. "
        "{'reorder': true, 'token_budget': 3000} (chat completions)",
    )


class SamplingFields(OpenAIBaseModel):
    """Fields shared by chat and legacy completions."""

    model: str = Field(min_length=1, max_length=256)
    n: JsonInt = Field(1, ge=1, le=128)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: JsonInt | None = Field(None, ge=1, le=1_000_000)
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    top_p: float | None = Field(None, ge=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: JsonInt | None = Field(None, ge=-INT64, lt=2 * INT64)
    ponder: PonderOptions | None = None

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    @property
    def completion_budget(self) -> int | None:
        return self.max_tokens


# What a field with several accepted forms takes, for the 400 that none of them matched.
FORMS = {
    "prompt": "a string, a list of strings, a list of token ids or a list of token-id lists",
    "content": "a string, a list of content parts, or null",
    "stop": "a string or a list of strings",
}


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """Every error the proxy answers, in OpenAI's shape (documented in the OpenAPI)."""

    error: ErrorDetail


class ReadyResponse(BaseModel):
    """``GET /ready``; ``models`` only for a caller with the key (or when none is set)."""

    status: Literal["ready", "unavailable"]
    models: dict[str, Literal["ok", "loading", "unavailable"]] | None = None


def parse_request(cls: type[RequestT], raw: Any) -> RequestT:
    """Validate a decoded JSON body; every problem becomes a 400 naming the field."""
    if not isinstance(raw, dict):
        raise ApiError(400, "the request body must be a JSON object")
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        param, message = _problem(exc.errors())
        raise ApiError(400, f"invalid request: {message}", param=param) from None


def _problem(errors: list[Any]) -> tuple[str | None, str]:
    """The field and message of the first problem. A value matching none of a union's
    forms yields one error per form, each located under the form's name (``prompt.str``):
    the field is then the locations' common prefix, and the message names the forms."""
    first = errors[0]
    loc = tuple(first["loc"])
    same = [tuple(e["loc"]) for e in errors if tuple(e["loc"][:1]) == loc[:1]]
    common = loc
    for other in same[1:]:
        k = 0
        while k < min(len(common), len(other)) and common[k] == other[k]:
            k += 1
        common = common[:k]
    where = common if len(same) > 1 and common else loc
    param = ".".join(str(p) for p in where) or None
    if where == loc:
        return param, f"{param}: {first['msg']}" if param else str(first["msg"])
    form = FORMS.get(str(where[-1]), "one of its accepted forms")
    return param, f"{param} must be {form}"


STRATEGY_TEXT = (
    "strategies take text content only: send text parts, or drop the strategy to pass "
    "the request through"
)


def text_of(content: str | list[dict[str, Any]] | None, problem: str = STRATEGY_TEXT) -> str:
    """A message's text; where only text is taken, other parts are a 400 saying ``problem``."""
    if content is None or isinstance(content, str):
        return content or ""
    texts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise ApiError(400, problem, param="messages")
        texts.append(part["text"])
    return "\n".join(texts)
