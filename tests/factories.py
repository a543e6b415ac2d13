"""Valid contracts objects with overrides, and random ids (cosmic's `random_refs`)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from darkroom.contracts.api import CreateImageJob
from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    JobCompleted,
    JobEvent,
    JobFailed,
    JobProgress,
    JobQueued,
    JobRequeued,
    JobStarted,
)
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.params import ImageParams
from darkroom.contracts.requests import ImageJobRequested
from darkroom.jobs.records import JobRecord
from darkroom.jobs.transitions import REPORTS

OCCURRED_AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def random_job_id() -> uuid.UUID:
    return uuid.uuid4()


def random_user_id(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def image_params(**overrides: Any) -> ImageParams:
    values: dict[str, Any] = {
        "prompt": "a lighthouse at dusk",
        "num_images": 1,
        "width": 64,
        "height": 64,
        "seed": 42,
        "model": "procedural",
        "provider": "local",
    }
    return ImageParams.model_validate(values | overrides)


def create_image_job(**overrides: Any) -> CreateImageJob:
    """A valid `POST /v1/jobs/image` body; overrides are validated like a real body."""
    return CreateImageJob.model_validate({"prompt": "a lighthouse at dusk"} | overrides)


def image_request(**overrides: Any) -> ImageJobRequested:
    values: dict[str, Any] = {
        "request_id": uuid.uuid4(),
        "job_id": random_job_id(),
        "user_id": random_user_id(),
        "attempt": 1,
        "first_seq": 2,
        "requested_at": OCCURRED_AT,
        "params": image_params(),
    }
    return ImageJobRequested.model_validate(values | overrides)


def _envelope(event_type: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """Envelope fields; a worker's report with a `request_id` gets its id from that run."""
    values: dict[str, Any] = {
        "job_id": random_job_id(),
        "user_id": random_user_id(),
        "job_type": JobType.IMAGE,
        "occurred_at": OCCURRED_AT,
        "attempt": 1,
        "seq": 1,
    } | overrides
    values.setdefault(
        "event_id",
        make_event_id(
            values["job_id"],
            values["attempt"],
            values["seq"],
            event_type,
            values.get("request_id") if event_type in REPORTS else None,
        ),
    )
    return values


def job_queued(**overrides: Any) -> JobQueued:
    return JobQueued.model_validate({"params": image_params()} | _envelope("job.queued", overrides))


def job_started(**overrides: Any) -> JobStarted:
    values = {"seq": 2, "worker_id": "worker-1"} | overrides
    return JobStarted.model_validate(_envelope("job.started", values))


def job_progress(**overrides: Any) -> JobProgress:
    values = {"seq": 3, "percent": 50, "message": "step 2/4"} | overrides
    return JobProgress.model_validate(_envelope("job.progress", values))


def asset_descriptor(**overrides: Any) -> AssetDescriptor:
    data = b"image bytes"
    values: dict[str, Any] = {
        "key": f"jobs/{random_job_id()}/0.png",
        "content_type": "image/png",
        "width": 64,
        "height": 64,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    return AssetDescriptor.model_validate(values | overrides)


def job_completed(**overrides: Any) -> JobCompleted:
    values = {"seq": 4, "result": JobResult(assets=[asset_descriptor()])} | overrides
    return JobCompleted.model_validate(_envelope("job.completed", values))


def job_failed(**overrides: Any) -> JobFailed:
    values = {
        "seq": 4,
        "code": ErrorCode.PROVIDER_TIMEOUT,
        "message": "the provider timed out",
        "retryable": True,
    } | overrides
    return JobFailed.model_validate(_envelope("job.failed", values))


def job_requeued(**overrides: Any) -> JobRequeued:
    values = {"seq": 5, "attempt": 2, "requested_by": "user"} | overrides
    return JobRequeued.model_validate(_envelope("job.requeued", values))


EVENT_FACTORIES = {
    "job.queued": job_queued,
    "job.started": job_started,
    "job.progress": job_progress,
    "job.completed": job_completed,
    "job.failed": job_failed,
    "job.requeued": job_requeued,
}


def job_timeline(*event_types: str, **overrides: Any) -> list[JobEvent]:
    """Events of one job numbered from seq 1, e.g. `job_timeline("job.queued", "job.started")`."""
    shared = {"job_id": random_job_id(), "user_id": random_user_id()} | overrides
    return [
        EVENT_FACTORIES[event_type](**shared, seq=seq)
        for seq, event_type in enumerate(event_types, start=1)
    ]


def job_record(status: str, **overrides: Any) -> JobRecord:
    """A job row as the store returns it (valid params; one attempt, last event seq 3)."""
    values: dict[str, Any] = {
        "job_id": random_job_id(),
        "user_id": "u-1",
        "type": "image",
        "status": status,
        "progress": 0,
        "message": None,
        "attempts": 1,
        "last_seq": 3,
        "params": image_params().model_dump(mode="json"),
        "result": None,
        "error": None,
        "created_at": OCCURRED_AT,
        "updated_at": OCCURRED_AT,
        "started_at": None,
        "finished_at": None,
    } | overrides
    return JobRecord(**values)


def batch_family(parent_status: str, *statuses: str) -> tuple[JobRecord, list[JobRecord]]:
    """A batch in `parent_status` and one child per status, oldest first (a child that is not
    queued has run once)."""
    parent = job_record(parent_status, type="batch", attempts=1, last_seq=6)
    children = [
        job_record(
            status,
            parent_id=parent.job_id,
            attempts=0 if status == "queued" else 1,
            created_at=OCCURRED_AT + timedelta(microseconds=index),
        )
        for index, status in enumerate(statuses, start=1)
    ]
    return parent, children
