"""Job types and job states."""

from enum import StrEnum


class JobType(StrEnum):
    """What a job generates."""

    IMAGE = "image"


class Priority(StrEnum):
    """Which waiting jobs start first: high before normal before low, none starved."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class JobStatus(StrEnum):
    """Where a job stands. A job ends in exactly one terminal state."""

    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed with a retryable error; the next one is scheduled
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
