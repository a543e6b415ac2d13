"""The two error bases of every worker, and how any exception maps to one of them."""

from __future__ import annotations

from darkroom.contracts.errors import ErrorCode, is_retryable
from darkroom.runtime.storage import StoreUnavailable


class WorkerError(Exception):
    """A job failure with a code."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code

    @property
    def retryable(self) -> bool:
        return is_retryable(self.code)


class RetryableError(WorkerError):
    """Trying again may succeed: timeouts, unavailable providers or storage, rate limits.
    `retry_after_s`: the provider's own word on when to try again (a 429's Retry-After); the
    next attempt waits at least that long, up to the policy's longest delay."""

    def __init__(
        self, code: ErrorCode, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(code, message)
        self.retry_after_s = retry_after_s


class PermanentError(WorkerError):
    """Trying again will fail the same way: invalid input, refused content."""


class JobTimedOut(RetryableError):
    """The attempt ran past the job type's timeout and was stopped."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(ErrorCode.TIMEOUT, f"the job ran past its {timeout_s:g} s timeout")


def classify(exc: BaseException) -> WorkerError:
    """The worker error an exception stands for; unknown exceptions are internal and permanent."""
    if isinstance(exc, WorkerError):
        return exc
    if isinstance(exc, StoreUnavailable):
        return RetryableError(ErrorCode.STORAGE_ERROR, f"object storage unavailable: {exc}")
    if isinstance(exc, TimeoutError):
        return RetryableError(ErrorCode.PROVIDER_TIMEOUT, "the provider timed out")
    if isinstance(exc, ConnectionError):
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"the provider is unavailable: {exc}")
    if isinstance(exc, ValueError):
        return PermanentError(ErrorCode.INVALID_INPUT, str(exc))
    return PermanentError(ErrorCode.INTERNAL, f"internal error: {type(exc).__name__}")
