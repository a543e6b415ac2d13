"""Topic and consumer-group names: the only place they are spelled."""

from __future__ import annotations

from enum import StrEnum
from typing import assert_never

from pydantic import BaseModel, ConfigDict, Field

from darkroom.contracts.jobtypes import WORKER_TYPES, JobType, Priority

IMAGE_REQUESTED = "jobs.image.requested"
IMAGE_DLQ = "jobs.image.dlq"
JOB_EVENTS = "jobs.events"
JOB_CONTROL = "jobs.control"
BROKER_INCARNATION = "darkroom.incarnation"
IMAGE_WORKER_GROUP = "image-worker"
PROJECTOR_GROUP = "projector"
WEBHOOKS_GROUP = "webhooks"
WEBHOOKS_DLQ = "webhooks.dlq"


DAY_MS = 24 * 3600 * 1000


class TopicKind(StrEnum):
    """How a topic keeps its records."""

    LOG = "log"  # every record, for its retention (requests, retries, events, dead letters)
    LATEST = "latest"  # the latest record per key, and older ones for the retention (control)
    MARKER = "marker"  # one partition, every record forever (the broker's incarnation)


class TopicSpec(BaseModel):
    """One topic as the stack creates it; partitions and replication come from the deployment."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: TopicKind
    retention_ms: int = Field(description="How long records are kept; -1: forever.")
    purpose: str

    @property
    def cleanup_policy(self) -> str:
        return "compact,delete" if self.kind is TopicKind.LATEST else "delete"


class WorkerTopics(BaseModel):
    """The topics and groups of one job type that a worker runs."""

    model_config = ConfigDict(frozen=True)

    requested: str = Field(description="Requests of normal priority, keyed by job id.")
    requested_high: str = Field(description="Requests of high priority, keyed by job id.")
    requested_low: str = Field(description="Requests of low priority, keyed by job id.")
    retry: str = Field(description="Requests waiting for their backoff before a retry.")
    dlq: str = Field(
        description="Dead letters: requests out of attempts, and messages that are not requests."
    )
    worker_group: str = Field(description="Consumer group of the workers.")
    retry_group: str = Field(description="Consumer group that moves due retries back to requests.")

    @classmethod
    def named(cls, job_type: JobType, suffix: str = "") -> WorkerTopics:
        """The names of `job_type`: jobs.<type>.requested[.high|.low], .retry, .dlq; groups
        <type>-worker and <type>-retry-scheduler; each with `.suffix` when one is given."""
        end = f".{suffix}" if suffix else ""
        base = f"jobs.{job_type.value}"
        return cls(
            requested=f"{base}.requested{end}",
            requested_high=f"{base}.requested.high{end}",
            requested_low=f"{base}.requested.low{end}",
            retry=f"{base}.retry{end}",
            dlq=f"{base}.dlq{end}",
            worker_group=f"{job_type.value}-worker{end}",
            retry_group=f"{job_type.value}-retry-scheduler{end}",
        )

    def by_priority(self) -> dict[Priority, str]:
        """The request topics, one per priority, highest first."""
        return {
            Priority.HIGH: self.requested_high,
            Priority.NORMAL: self.requested,
            Priority.LOW: self.requested_low,
        }

    def all_topics(self) -> list[str]:
        return [*self.by_priority().values(), self.retry, self.dlq]

    def specs(self, job_type: JobType) -> list[TopicSpec]:
        """This job type's topics, with how they keep their records."""
        week, kind = 7 * DAY_MS, TopicKind.LOG
        specs = [
            TopicSpec(name=t, kind=kind, retention_ms=week, purpose=f"{job_type.value} requests")
            for t in self.by_priority().values()
        ]
        return [
            *specs,
            TopicSpec(name=self.retry, kind=kind, retention_ms=week, purpose="retries waiting"),
            TopicSpec(name=self.dlq, kind=kind, retention_ms=30 * DAY_MS, purpose="dead letters"),
        ]


class Topics(BaseModel):
    """The topic and group names one deployment uses.

    Production uses the defaults; tests give every test its own suffix so that runs sharing one
    broker never see each other's messages.
    """

    model_config = ConfigDict(frozen=True)

    image: WorkerTopics = Field(default_factory=lambda: WorkerTopics.named(JobType.IMAGE))
    upscale: WorkerTopics = Field(default_factory=lambda: WorkerTopics.named(JobType.UPSCALE))
    variants: WorkerTopics = Field(default_factory=lambda: WorkerTopics.named(JobType.VARIANTS))
    video: WorkerTopics = Field(default_factory=lambda: WorkerTopics.named(JobType.VIDEO))
    events: str = Field(JOB_EVENTS, description="Every job event of every type, keyed by job id.")
    control: str = Field(
        JOB_CONTROL, description="Control messages to workers (cancels), keyed by job id."
    )
    projector_group: str = Field(
        PROJECTOR_GROUP, description="Consumer group of the job projector."
    )
    webhooks_group: str = Field(
        WEBHOOKS_GROUP, description="Consumer group of the webhook senders."
    )
    webhooks_dlq: str = Field(
        WEBHOOKS_DLQ, description="Webhook deliveries that gave up, keyed by job id."
    )
    incarnation: str = Field(
        BROKER_INCARNATION,
        description="One partition whose first record names the log the stack runs on: a "
        "different record (or none) means the broker lost its log and every process starts over.",
    )

    @classmethod
    def with_suffix(cls, suffix: str) -> Topics:
        """Every name with `suffix` appended (empty suffix: the production names)."""
        if not suffix:
            return cls()
        return cls(
            image=WorkerTopics.named(JobType.IMAGE, suffix),
            upscale=WorkerTopics.named(JobType.UPSCALE, suffix),
            variants=WorkerTopics.named(JobType.VARIANTS, suffix),
            video=WorkerTopics.named(JobType.VIDEO, suffix),
            events=f"{JOB_EVENTS}.{suffix}",
            control=f"{JOB_CONTROL}.{suffix}",
            projector_group=f"{PROJECTOR_GROUP}.{suffix}",
            webhooks_group=f"{WEBHOOKS_GROUP}.{suffix}",
            webhooks_dlq=f"{WEBHOOKS_DLQ}.{suffix}",
            incarnation=f"{BROKER_INCARNATION}.{suffix}",
        )

    def of(self, job_type: JobType) -> WorkerTopics:
        """The topics of a job type a worker runs (batch and chain jobs have none)."""
        match job_type:
            case JobType.IMAGE:
                return self.image
            case JobType.UPSCALE:
                return self.upscale
            case JobType.VARIANTS:
                return self.variants
            case JobType.VIDEO:
                return self.video
            case JobType.BATCH | JobType.CHAIN:
                raise ValueError(f"{job_type.value} jobs have no request topics (no worker)")
            case _:
                assert_never(job_type)

    def requested(self, job_type: JobType, priority: Priority = Priority.NORMAL) -> str:
        """The request topic of a job type and priority."""
        return self.request_topics(job_type)[priority]

    def request_topics(self, job_type: JobType) -> dict[Priority, str]:
        """A job type's request topics, one per priority, highest first."""
        return self.of(job_type).by_priority()

    def retry(self, job_type: JobType) -> str:
        """Where a job type's retries wait for their backoff."""
        return self.of(job_type).retry

    def dead_letters(self, job_type: JobType) -> str:
        """The dead-letter topic of a job type."""
        return self.of(job_type).dlq

    def all_topics(self) -> list[str]:
        """Every topic the stack creates with the deployment's partitions (all but the marker)."""
        per_type = [t for job_type in WORKER_TYPES for t in self.of(job_type).all_topics()]
        return [*per_type, self.events, self.control, self.webhooks_dlq]

    def specs(self) -> list[TopicSpec]:
        """Every topic the stack uses, with how it keeps its records."""
        week = 7 * DAY_MS
        per_type = [s for job_type in WORKER_TYPES for s in self.of(job_type).specs(job_type)]
        return [
            *per_type,
            TopicSpec(
                name=self.events, kind=TopicKind.LOG, retention_ms=week, purpose="job events"
            ),
            TopicSpec(
                name=self.control,
                kind=TopicKind.LATEST,
                retention_ms=week,
                purpose="cancels and superseded runs",
            ),
            TopicSpec(
                name=self.webhooks_dlq,
                kind=TopicKind.LOG,
                retention_ms=30 * DAY_MS,
                purpose="webhook deliveries that gave up",
            ),
            TopicSpec(
                name=self.incarnation,
                kind=TopicKind.MARKER,
                retention_ms=-1,
                purpose="the log the stack runs on",
            ),
        ]
