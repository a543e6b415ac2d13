"""How every hosted provider's HTTP answers read for the retry policy: one request (no answer
is retryable), a refusal by its status (429 with its Retry-After, authentication, a fault on
the provider's side, the job's input), and a successful answer's JSON object."""

from __future__ import annotations

from typing import Any

import httpx

from darkroom.contracts.errors import ErrorCode
from darkroom.media.post import retry_after
from darkroom.runtime.worker.errors import PermanentError, RetryableError, WorkerError


def status_error(status: int, said: str, retry_after_s: float | None = None) -> WorkerError:
    """A provider's refusal as the retry policy reads it, its words in `said`: 429 is
    rate_limited (tried again no sooner than `retry_after_s`), 401 and 403 provider_auth, a 5xx
    or 408 is retried, any other 4xx is the job's invalid_input."""
    if status == 429:
        return RetryableError(ErrorCode.RATE_LIMITED, said, retry_after_s=retry_after_s)
    if status in (401, 403):
        return PermanentError(ErrorCode.PROVIDER_AUTH, said)
    if status >= 500 or status == 408:
        return RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return PermanentError(ErrorCode.INVALID_INPUT, said)


def response_error(response: httpx.Response, said: str) -> WorkerError:
    """`status_error` of an HTTP answer, with its Retry-After (seconds or an HTTP date)."""
    return status_error(response.status_code, said, retry_after(response.headers))


def json_object(response: httpx.Response, who: str) -> dict[str, Any]:
    """A successful answer's JSON object; anything else is a retryable provider fault."""
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        said = f"{who} {response.status_code}: not a JSON object: {response.text[:200]}"
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, said)
    return answer


async def send(
    client: httpx.AsyncClient, who: str, method: str, url: str, **kwargs: object
) -> httpx.Response:
    """One request to a provider; no answer (a timeout, a refused connection) is retryable."""
    try:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise RetryableError(ErrorCode.PROVIDER_TIMEOUT, f"{who} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise RetryableError(ErrorCode.PROVIDER_UNAVAILABLE, f"{who} unreachable: {exc}") from exc
