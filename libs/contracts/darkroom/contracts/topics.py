"""Topic and consumer-group names: the only place they are spelled."""

from __future__ import annotations

from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from darkroom.contracts.jobtypes import JobType, Priority

IMAGE_REQUESTED = "jobs.image.requested"
IMAGE_REQUESTED_HIGH = "jobs.image.requested.high"
IMAGE_REQUESTED_LOW = "jobs.image.requested.low"
IMAGE_RETRY = "jobs.image.retry"
IMAGE_DLQ = "jobs.image.dlq"
JOB_EVENTS = "jobs.events"
JOB_CONTROL = "jobs.control"
IMAGE_WORKER_GROUP = "image-worker"
IMAGE_RETRY_GROUP = "image-retry-scheduler"
PROJECTOR_GROUP = "projector"


class Topics(BaseModel):
    """The topic and group names one deployment uses.

    Production uses the defaults; tests give every test its own suffix so that runs sharing one
    broker never see each other's messages.
    """

    model_config = ConfigDict(frozen=True)

    image_requested: str = Field(
        IMAGE_REQUESTED, description="Image job requests of normal priority, keyed by job id."
    )
    image_requested_high: str = Field(
        IMAGE_REQUESTED_HIGH, description="Image job requests of high priority, keyed by job id."
    )
    image_requested_low: str = Field(
        IMAGE_REQUESTED_LOW, description="Image job requests of low priority, keyed by job id."
    )
    image_retry: str = Field(
        IMAGE_RETRY, description="Image requests waiting for their backoff before a retry."
    )
    image_dlq: str = Field(
        IMAGE_DLQ,
        description="Dead letters: image requests out of attempts, and messages that are not requests.",
    )
    events: str = Field(JOB_EVENTS, description="Every job event of every type, keyed by job id.")
    control: str = Field(
        JOB_CONTROL, description="Control messages to workers (cancels), keyed by job id."
    )
    image_worker_group: str = Field(
        IMAGE_WORKER_GROUP, description="Consumer group of image workers."
    )
    image_retry_group: str = Field(
        IMAGE_RETRY_GROUP, description="Consumer group that moves due retries back to requests."
    )
    projector_group: str = Field(
        PROJECTOR_GROUP, description="Consumer group of the job projector."
    )

    @classmethod
    def with_suffix(cls, suffix: str) -> Topics:
        """Every name with `suffix` appended (empty suffix: the production names)."""
        if not suffix:
            return cls()
        return cls(**{name: f"{value}.{suffix}" for name, value in cls().model_dump().items()})

    def requested(self, job_type: JobType, priority: Priority = Priority.NORMAL) -> str:
        """The request topic of a job type and priority."""
        return self.request_topics(job_type)[priority]

    def request_topics(self, job_type: JobType) -> dict[Priority, str]:
        """A job type's request topics, one per priority, highest first."""
        match job_type:
            case JobType.IMAGE:
                return {
                    Priority.HIGH: self.image_requested_high,
                    Priority.NORMAL: self.image_requested,
                    Priority.LOW: self.image_requested_low,
                }
            case _:
                assert_never(job_type)

    def retry(self, job_type: JobType) -> str:
        """Where a job type's retries wait for their backoff."""
        match job_type:
            case JobType.IMAGE:
                return self.image_retry
            case _:
                assert_never(job_type)

    def dead_letters(self, job_type: JobType) -> str:
        """The dead-letter topic of a job type."""
        match job_type:
            case JobType.IMAGE:
                return self.image_dlq
            case _:
                assert_never(job_type)

    def all_topics(self) -> list[str]:
        """Every topic the stack creates."""
        return [
            *self.request_topics(JobType.IMAGE).values(),
            self.image_retry,
            self.image_dlq,
            self.events,
            self.control,
        ]
