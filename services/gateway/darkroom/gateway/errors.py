"""Domain errors of the gateway's use cases; main.py maps them to HTTP answers."""

from __future__ import annotations


class JobNotFound(Exception):
    """No such job for this caller (another user's job is not found either, never forbidden)."""


class WrongTokenScope(Exception):
    """The token is valid but may not do this (a stream-only token on the API)."""


class PriorityNotAllowed(Exception):
    """The caller asked for a priority their token does not grant (answered as 403 at `loc`)."""

    loc = ("body", "priority")

    def __init__(self, priority: str) -> None:
        super().__init__(
            f"priority {priority} is not allowed for this caller: the token does not grant it; "
            f"submit with normal or low, or use a token that grants {priority}"
        )
        self.priority = priority


class JobNotRetryable(Exception):
    """Only a failed job of a type a worker runs can be sent back to the queue."""

    def __init__(self, status: str, message: str | None = None) -> None:
        reasons = {
            "completed": "its results are stored",
            "cancelled": "it was stopped on purpose; submit it again instead",
        }
        why = reasons.get(status, "it has not ended yet")
        super().__init__(
            message or f"only a failed job can be retried; this one is {status}: {why}"
        )
        self.status = status


class InvalidInput(Exception):
    """A request field names something that cannot be used (answered as 422 at `loc`)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


class UploadRejected(Exception):
    """An uploaded file is refused: too large (413), not a supported image (415), or not usable
    (422: too many pixels, corrupt)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
