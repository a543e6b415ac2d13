"""`classify`: which failures are worth retrying."""

import pytest

from darkroom.contracts.errors import ErrorCode
from darkroom.image_worker.errors import PermanentError, RetryableError, classify
from darkroom.runtime.storage import StoreUnavailable


@pytest.mark.parametrize(
    ("exc", "kind", "code"),
    [
        (StoreUnavailable("down"), RetryableError, ErrorCode.STORAGE_ERROR),
        (TimeoutError(), RetryableError, ErrorCode.PROVIDER_TIMEOUT),
        (ConnectionRefusedError(), RetryableError, ErrorCode.PROVIDER_UNAVAILABLE),
        (ConnectionError("reset"), RetryableError, ErrorCode.PROVIDER_UNAVAILABLE),
        (ValueError("bad size"), PermanentError, ErrorCode.INVALID_INPUT),
        (RuntimeError("bug"), PermanentError, ErrorCode.INTERNAL),
        (KeyError("x"), PermanentError, ErrorCode.INTERNAL),
    ],
)
def test_exceptions_map_to_a_retryable_or_permanent_error_with_a_code(
    exc: Exception, kind: type, code: ErrorCode
) -> None:
    error = classify(exc)

    assert type(error) is kind
    assert error.code == code
    assert error.retryable is (kind is RetryableError)


def test_a_worker_error_is_kept_as_it_is() -> None:
    error = PermanentError(ErrorCode.CONTENT_REFUSED, "refused by the safety filter")

    assert classify(error) is error
    assert error.retryable is False


def test_an_internal_error_does_not_leak_the_exception_text() -> None:
    error = classify(RuntimeError("password=hunter2"))

    assert "hunter2" not in str(error)
    assert "RuntimeError" in str(error)


def test_invalid_input_keeps_the_message_for_the_user() -> None:
    assert str(classify(ValueError("width must be at most 2048"))) == "width must be at most 2048"
