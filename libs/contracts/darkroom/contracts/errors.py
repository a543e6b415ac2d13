"""Error codes carried by `job.failed` events and whether a retry may help."""

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a job failed."""

    INVALID_INPUT = "invalid_input"
    INPUT_REFUSED = "input_refused"  # an input URL or image refused (address, size, format, bomb)
    INPUT_UNAVAILABLE = "input_unavailable"  # an input URL did not answer in time, or 5xx
    CONTENT_REFUSED = "content_refused"
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    RATE_LIMITED = "rate_limited"
    PROVIDER_AUTH = "provider_auth"  # the provider refused the deployment's credentials
    STORAGE_ERROR = "storage_error"
    TIMEOUT = "timeout"
    STALLED = "stalled"  # no worker reported on a running job, attempt after attempt
    STEP_FAILED = "step_failed"  # a chain whose step failed (the message names the step)
    CHILDREN_FAILED = "children_failed"  # a batch none of whose children completed
    INTERNAL = "internal"


RETRYABLE_CODES = frozenset(
    {
        ErrorCode.PROVIDER_TIMEOUT,
        ErrorCode.PROVIDER_UNAVAILABLE,
        ErrorCode.RATE_LIMITED,
        ErrorCode.STORAGE_ERROR,
        ErrorCode.TIMEOUT,
        ErrorCode.STALLED,
        ErrorCode.INPUT_UNAVAILABLE,
    }
)


def is_retryable(code: ErrorCode) -> bool:
    """Whether a job that failed with `code` may succeed when tried again."""
    return code in RETRYABLE_CODES
