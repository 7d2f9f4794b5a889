"""Every exception ponder raises on purpose.

    PonderError                      base of everything below; its message says what to do
    ├── ConfigError                  bad user input: a spec, an option, a file's content
    │   ├── UnknownModelError        a model name not in the registry and not a file
    │   └── UnknownStrategyError     a strategy spec that names no strategy
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


class ModelFetchError(PonderError):
    """Fetching a model failed, or the fetched file does not match its checksum."""


class BackendError(PonderError):
    """A backend could not produce samples."""


class BackendUnavailableError(BackendError):
    """The backend cannot be reached or loaded."""


class BackendTimeoutError(BackendError):
    """The backend did not answer within the timeout."""


class UpstreamError(BackendError):
    """The upstream server answered with an error status."""

    def __init__(self, message: str, status_code: int = 502) -> None:
        super().__init__(message)
        self.status_code = status_code


class DataError(PonderError):
    """A dataset, a sample store or a router file is malformed."""


class RunInUseError(DataError):
    """Another process holds the run directory's lock."""
