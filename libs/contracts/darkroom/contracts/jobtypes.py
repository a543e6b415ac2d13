"""Job types and job states."""

from enum import StrEnum


class JobType(StrEnum):
    """What a job does. Worker types run on a worker of their own; parent types (batch, chain)
    only group child jobs and are driven by their children's events."""

    IMAGE = "image"
    UPSCALE = "upscale"
    VARIANTS = "variants"
    VIDEO = "video"
    BATCH = "batch"
    CHAIN = "chain"

    @property
    def is_parent(self) -> bool:
        """Whether jobs of this type only group children (no worker runs them)."""
        return self in PARENT_TYPES


PARENT_TYPES = frozenset({JobType.BATCH, JobType.CHAIN})
WORKER_TYPES = tuple(t for t in JobType if t not in PARENT_TYPES)


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
    COMPLETED_WITH_ERRORS = "completed_with_errors"  # a batch some of whose children failed
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset(
    {
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_ERRORS,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }
)
