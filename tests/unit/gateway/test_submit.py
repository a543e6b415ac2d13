"""Accepting an image job: one transaction with the job, its `job.queued` and two outbox messages."""

from typing import Any

from darkroom.contracts.catalog import ASPECT_SIZES
from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.events import JobQueued, parse_event
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.submit import submit_image_job
from darkroom.runtime.auth import Principal
from darkroom.runtime.db import NewJob, OutboxMessage
from tests.factories import create_image_job, random_user_id
from tests.unit.gateway.fakes import FakeJobStore

TOPICS = Topics.with_suffix("unit")


async def submit(**body: Any) -> tuple[NewJob, JobQueued, list[OutboxMessage], str]:
    """Submit a body as a random user; returns what reached the store, and the user id."""
    store, user_id = FakeJobStore(), random_user_id()
    accepted = await submit_image_job(
        create_image_job(**body),
        Principal(user_id=user_id, scope="api"),
        store,
        TOPICS,
        model="procedural",
    )
    [plan] = store.created
    job, [queued], messages = plan.job, plan.events, list(plan.messages)
    assert job.job_id == queued.job_id == accepted.job_id
    assert isinstance(queued, JobQueued)
    return job, queued, messages, user_id


def request_of(messages: list[OutboxMessage]) -> ImageJobRequested:
    return ImageJobRequested.model_validate_json(messages[1].payload)


async def test_job_queued_is_the_first_event_of_the_first_attempt() -> None:
    job, queued, _, user_id = await submit()

    assert (queued.seq, queued.attempt, queued.user_id) == (1, 1, user_id)
    assert queued.event_id == make_event_id(job.job_id, 1, 1, "job.queued")
    assert (job.user_id, job.type, job.last_seq) == (user_id, "image", 1)


async def test_the_request_starts_attempt_1_at_seq_2() -> None:
    job, queued, messages, user_id = await submit()
    request = request_of(messages)

    assert (request.job_id, request.user_id) == (job.job_id, user_id)
    assert (request.attempt, request.first_seq) == (1, 2)
    assert request.params == queued.params


async def test_job_queued_announces_the_first_request_as_the_jobs_run() -> None:
    job, queued, messages, _ = await submit()

    assert queued.request_id == request_of(messages).request_id == job.run_id


async def test_the_event_message_comes_before_the_request_both_keyed_by_job_id() -> None:
    job, queued, messages, _ = await submit()

    assert [m.topic for m in messages] == [TOPICS.events, TOPICS.image.requested]
    assert [m.key for m in messages] == [str(job.job_id)] * 2
    assert parse_event(messages[0].payload) == queued
    assert messages[0].headers["event-type"] == "job.queued"
    assert messages[0].headers["event-id"] == str(queued.event_id)
    assert messages[1].headers["request-id"] == str(request_of(messages).request_id)


async def test_a_missing_seed_is_chosen_and_recorded_everywhere() -> None:
    job, queued, messages, _ = await submit()

    seed = queued.params.seed
    assert 0 <= seed <= 2**32 - 1
    assert request_of(messages).params.seed == seed
    assert job.params["seed"] == seed


async def test_an_explicit_seed_is_kept() -> None:
    job, queued, messages, _ = await submit(seed=1234)

    assert queued.params.seed == request_of(messages).params.seed == job.params["seed"] == 1234


async def test_an_aspect_ratio_is_resolved_to_width_and_height() -> None:
    job, queued, _, _ = await submit(aspect_ratio="16:9")

    assert (queued.params.width, queued.params.height) == ASPECT_SIZES["16:9"]
    assert (job.params["width"], job.params["height"]) == ASPECT_SIZES["16:9"]


async def test_the_providers_default_model_is_filled_in() -> None:
    job, queued, _, _ = await submit()

    assert queued.params.model == job.params["model"] == "procedural"


async def test_each_submission_is_a_new_job() -> None:
    first, *_ = await submit()
    second, *_ = await submit()

    assert first.job_id != second.job_id
