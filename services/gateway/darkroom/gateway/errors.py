"""Domain errors of the gateway's use cases; main.py maps them to HTTP answers."""


class JobNotFound(Exception):
    """No such job for this caller (another user's job is not found either, never forbidden)."""


class WrongTokenScope(Exception):
    """The token is valid but may not do this (a stream-only token on the API)."""


class JobNotRetryable(Exception):
    """Only a failed job can be sent back to the queue."""

    def __init__(self, status: str) -> None:
        reasons = {
            "completed": "its results are stored",
            "cancelled": "it was stopped on purpose; submit it again instead",
        }
        why = reasons.get(status, "it has not ended yet")
        super().__init__(f"only a failed job can be retried; this one is {status}: {why}")
        self.status = status
