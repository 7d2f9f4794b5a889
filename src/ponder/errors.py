"""Every exception ponder raises on purpose.

    PonderError                      base of everything below; its message says what to do
    ├── ConfigError                  bad user input: a spec, an option, a file's content
    │   ├── UnknownModelError        a model name not in the registry and not a file
    │   ├── UnknownStrategyError     a strategy spec that names no strategy
    │   ├── UnsupportedOptionError   a request option the backend cannot honour (``param``)
    │   └── PlanError                anything the serving planner rejects
    │       ├── ArchitectureError      a config.json the planner cannot read
    │       ├── UnknownPlanModelError  neither a catalog name nor a config file
    │       ├── UnknownGPUError        a GPU name not in the GPU catalog
    │       ├── UnknownDtypeError      a weight or KV-cache dtype it does not know
    │       ├── LayoutError            an impossible parallel layout (TP not dividing heads)
    │       └── DoesNotFitError        the weights or the KV cache do not fit
    ├── ModelFetchError              a model could not be fetched, or its checksum is wrong
    ├── BackendError                 a backend failed to answer
    │   ├── BackendUnavailableError  cannot reach or load it (connection refused, no file)
    │   ├── BackendTimeoutError      it did not answer in time
    │   └── UpstreamError            it answered with an error (status code kept)
    └── DataError                    a dataset, sample store or router file is malformed
        └── RunInUseError            another process is running into the same run directory

Catch ``PonderError`` to handle anything ponder raises; the CLI turns it into one
line on stderr and a non-zero exit.
"""

from __future__ import annotations


class PonderError(Exception):
    """Base class of ponder's errors."""


class ConfigError(PonderError, ValueError):
    """Invalid user input: an option, a spec string, the content of a file."""


class UnknownModelError(ConfigError):
    """A model name that the registry does not know and that is not a file."""


class UnknownStrategyError(ConfigError):
    """A strategy spec that names no registered strategy."""


class UnsupportedOptionError(ConfigError):
    """A request option that the backend cannot honour; ``param`` names it."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.param = param


class ModelFetchError(PonderError):
    """Fetching a model failed, or the fetched file does not match its checksum."""


class BackendError(PonderError):
    """A backend could not produce samples."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached or loaded."""


class BackendTimeoutError(BackendError):
    """The backend did not answer within the timeout."""


class UpstreamError(BackendError):
    """The upstream server answered with an error status; ``param`` and ``code`` are
    those of its OpenAI-shaped error body, when it sent them."""

    def __init__(
        self,
        message: str,
        status_code: int = 502,
        *,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.param = param
        self.code = code


class DataError(PonderError):
    """A dataset, a sample store or a router file is malformed."""


class RunInUseError(DataError):
    """Another process holds the run directory's lock."""


class PlanError(ConfigError):
    """Base of the planner's errors; the message says what to change."""


class ArchitectureError(PlanError):
    """A model configuration that cannot be turned into an architecture."""


class UnknownPlanModelError(PlanError):
    """A model that is neither a catalog name, a config file, nor a directory holding one."""


class UnknownGPUError(PlanError):
    """A GPU name that the GPU catalog does not know."""


class UnknownDtypeError(PlanError):
    """A weight format or KV-cache dtype the planner does not know."""


class LayoutError(PlanError):
    """A parallel layout that vLLM would refuse for this model."""


class DoesNotFitError(PlanError):
    """The weights, or the KV cache for one request at the context, exceed GPU memory."""
