"""Topic names: production defaults, and a per-test suffix on every name."""

import pytest

from darkroom.contracts import topics
from darkroom.contracts.jobtypes import WORKER_TYPES, JobType, Priority
from darkroom.contracts.topics import Topics


def names_of(value: object) -> list[str]:
    """Every string in a (nested) dump of topic names."""
    if isinstance(value, dict):
        return [name for item in value.values() for name in names_of(item)]
    return [value] if isinstance(value, str) else []


def test_an_empty_suffix_gives_the_production_names() -> None:
    names = Topics.with_suffix("")

    assert names == Topics()
    assert names.events == topics.JOB_EVENTS
    assert names.image.requested == topics.IMAGE_REQUESTED
    assert names.image.worker_group == topics.IMAGE_WORKER_GROUP
    assert names.projector_group == topics.PROJECTOR_GROUP


def test_a_suffix_is_appended_to_every_topic_and_group_name() -> None:
    names = Topics.with_suffix("t1")

    assert names.model_dump()["image"] == {
        "requested": "jobs.image.requested.t1",
        "requested_high": "jobs.image.requested.high.t1",
        "requested_low": "jobs.image.requested.low.t1",
        "retry": "jobs.image.retry.t1",
        "dlq": "jobs.image.dlq.t1",
        "worker_group": "image-worker.t1",
        "retry_group": "image-retry-scheduler.t1",
    }
    assert (names.events, names.control, names.projector_group) == (
        "jobs.events.t1",
        "jobs.control.t1",
        "projector.t1",
    )
    assert all(name.endswith(".t1") for name in names_of(names.model_dump()))


def test_different_suffixes_share_no_name() -> None:
    a, b = Topics.with_suffix("a"), Topics.with_suffix("b")

    assert not set(names_of(a.model_dump())) & set(names_of(b.model_dump()))


def test_job_types_share_no_name() -> None:
    names = Topics()
    per_type = [set(names_of(names.of(t).model_dump())) for t in WORKER_TYPES]

    assert sum(map(len, per_type)) == len(set.union(*per_type))


@pytest.mark.parametrize("job_type", ["upscale", "variants", "video"])
def test_each_worker_job_type_has_its_own_topics(job_type: str) -> None:
    names = Topics.with_suffix("t1")

    assert names.requested(JobType(job_type)) == f"jobs.{job_type}.requested.t1"
    assert names.requested(JobType(job_type), Priority.HIGH) == f"jobs.{job_type}.requested.high.t1"
    assert names.retry(JobType(job_type)) == f"jobs.{job_type}.retry.t1"
    assert names.dead_letters(JobType(job_type)) == f"jobs.{job_type}.dlq.t1"
    assert names.of(JobType(job_type)).worker_group == f"{job_type}-worker.t1"


@pytest.mark.parametrize("job_type", [JobType.BATCH, JobType.CHAIN])
def test_batch_and_chain_jobs_have_no_request_topics(job_type: JobType) -> None:
    with pytest.raises(ValueError, match="no request topics"):
        Topics().requested(job_type)


def test_the_image_request_topic_follows_the_suffix() -> None:
    names = Topics.with_suffix("t1")

    assert names.requested(JobType.IMAGE) == "jobs.image.requested.t1"
    assert names.retry(JobType.IMAGE) == "jobs.image.retry.t1"
    assert names.dead_letters(JobType.IMAGE) == "jobs.image.dlq.t1"
    assert names.requested(JobType.IMAGE, Priority.HIGH) == "jobs.image.requested.high.t1"
    assert names.requested(JobType.IMAGE, Priority.LOW) == "jobs.image.requested.low.t1"


def test_the_stack_creates_every_topic_of_every_worker_type_once() -> None:
    created = Topics.with_suffix("t1").all_topics()

    assert len(created) == len(set(created)) == 4 * 5 + 3
    assert created[-3:] == ["jobs.events.t1", "jobs.control.t1", "webhooks.dlq.t1"]
    for job_type in ("image", "upscale", "variants", "video"):
        assert f"jobs.{job_type}.dlq.t1" in created
