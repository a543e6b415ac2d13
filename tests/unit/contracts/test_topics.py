"""Topic names: production defaults, and a per-test suffix on every name."""

from darkroom.contracts import topics
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.topics import Topics


def test_an_empty_suffix_gives_the_production_names() -> None:
    names = Topics.with_suffix("")

    assert names == Topics()
    assert names.events == topics.JOB_EVENTS
    assert names.image_requested == topics.IMAGE_REQUESTED
    assert names.image_worker_group == topics.IMAGE_WORKER_GROUP
    assert names.projector_group == topics.PROJECTOR_GROUP


def test_a_suffix_is_appended_to_every_topic_and_group_name() -> None:
    names = Topics.with_suffix("t1")

    assert names.model_dump() == {
        "image_requested": "jobs.image.requested.t1",
        "image_requested_high": "jobs.image.requested.high.t1",
        "image_requested_low": "jobs.image.requested.low.t1",
        "image_retry": "jobs.image.retry.t1",
        "image_dlq": "jobs.image.dlq.t1",
        "events": "jobs.events.t1",
        "control": "jobs.control.t1",
        "image_worker_group": "image-worker.t1",
        "image_retry_group": "image-retry-scheduler.t1",
        "projector_group": "projector.t1",
    }


def test_different_suffixes_share_no_name() -> None:
    a, b = Topics.with_suffix("a"), Topics.with_suffix("b")

    assert not set(a.model_dump().values()) & set(b.model_dump().values())


def test_the_image_request_topic_follows_the_suffix() -> None:
    names = Topics.with_suffix("t1")

    assert names.requested(JobType.IMAGE) == "jobs.image.requested.t1"
    assert names.retry(JobType.IMAGE) == "jobs.image.retry.t1"
    assert names.dead_letters(JobType.IMAGE) == "jobs.image.dlq.t1"
    assert names.requested(JobType.IMAGE, Priority.HIGH) == "jobs.image.requested.high.t1"
    assert names.requested(JobType.IMAGE, Priority.LOW) == "jobs.image.requested.low.t1"
    assert names.all_topics() == [
        "jobs.image.requested.high.t1",
        "jobs.image.requested.t1",
        "jobs.image.requested.low.t1",
        "jobs.image.retry.t1",
        "jobs.image.dlq.t1",
        "jobs.events.t1",
        "jobs.control.t1",
    ]
