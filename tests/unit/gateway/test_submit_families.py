"""Accepting a batch or a chain: the parent and its children, all in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from darkroom.contracts.api import CreateBatchJob
from darkroom.contracts.events import JobQueued
from darkroom.contracts.jobtypes import JobType, Priority
from darkroom.contracts.params import MAX_SEED, BatchParams, ChainParams, UpscaleStep, VariantsStep
from darkroom.contracts.requests import ImageJobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.submit import Accepted, submit_batch_job, submit_image_job
from darkroom.jobs.records import NewJobPlan
from darkroom.runtime.auth import Principal
from tests.factories import create_image_job, random_user_id

TOPICS = Topics.with_suffix("unit")
PROMPTS = ["a fox", "a cat", "an owl", "a hare"]


class RecordingWriter:
    """Keeps each `create_jobs` call as it came: one call is one transaction."""

    def __init__(self) -> None:
        self.calls: list[list[NewJobPlan]] = []

    async def create_jobs(self, plans: Sequence[NewJobPlan]) -> None:
        self.calls.append(list(plans))


async def submit_batch(**body: Any) -> tuple[Accepted, list[NewJobPlan], str]:
    writer, user_id = RecordingWriter(), random_user_id()
    accepted = await submit_batch_job(
        CreateBatchJob.model_validate({"prompts": PROMPTS} | body),
        Principal(user_id=user_id, scope="api", priorities=frozenset({Priority.HIGH})),
        writer,
        TOPICS,
        model="procedural",
    )
    [writes] = writer.calls
    return accepted, writes, user_id


def request_of(write: NewJobPlan) -> ImageJobRequested:
    [_, request] = write.messages
    assert request.topic == TOPICS.image.requested
    return ImageJobRequested.model_validate_json(request.payload)


async def test_a_batch_writes_its_parent_and_every_child_in_one_call() -> None:
    accepted, writes, user_id = await submit_batch()

    parent, *kids = [w.job for w in writes]
    assert (parent.job_id, parent.type, parent.parent_id) == (accepted.job_id, "batch", None)
    assert [k.type for k in kids] == ["image"] * len(PROMPTS)
    assert {k.parent_id for k in kids} == {parent.job_id}
    assert {w.job.user_id for w in writes} == {user_id}
    assert [k.params["prompt"] for k in kids] == PROMPTS
    assert (accepted.type, accepted.children) == (JobType.BATCH, [k.job_id for k in kids])


async def test_batch_children_use_consecutive_seeds_from_the_given_one() -> None:
    _, writes, _ = await submit_batch(seed=1000)

    assert [w.job.params["seed"] for w in writes[1:]] == [1000, 1001, 1002, 1003]
    assert [request_of(w).params.seed for w in writes[1:]] == [1000, 1001, 1002, 1003]


async def test_batch_seeds_wrap_around_past_the_largest_seed() -> None:
    _, writes, _ = await submit_batch(seed=MAX_SEED - 1)

    assert [w.job.params["seed"] for w in writes[1:]] == [MAX_SEED - 1, MAX_SEED, 0, 1]


async def test_a_batch_without_a_seed_still_gives_consecutive_seeds() -> None:
    _, writes, _ = await submit_batch()

    base = writes[1].job.params["seed"]
    seeds = [w.job.params["seed"] for w in writes[1:]]
    assert seeds == [(base + i) % (MAX_SEED + 1) for i in range(len(PROMPTS))]


async def test_batch_jobs_are_created_in_prompt_order_after_their_parent() -> None:
    accepted, writes, _ = await submit_batch()

    created = [w.job.created_at for w in writes]
    assert created == sorted(created)
    assert len(set(created)) == len(created)
    assert created[0] == accepted.created_at


async def test_each_batch_child_is_queued_and_requested_with_its_parent_id() -> None:
    accepted, writes, _ = await submit_batch(priority="high")

    for write in writes[1:]:
        job, [queued], messages = write.job, write.events, write.messages
        assert isinstance(queued, JobQueued)
        assert (queued.job_id, queued.parent_id) == (job.job_id, accepted.job_id)
        assert [m.topic for m in messages] == [TOPICS.events, TOPICS.image.requested_high]
        request = ImageJobRequested.model_validate_json(messages[1].payload)
        assert (request.job_id, request.parent_id, request.priority) == (
            job.job_id,
            accepted.job_id,
            "high",
        )


async def test_the_batch_parent_is_queued_but_never_requested_from_a_worker() -> None:
    _, writes, _ = await submit_batch(width=256, height=128)

    job, [queued], messages = writes[0].job, writes[0].events, writes[0].messages
    assert [m.topic for m in messages] == [TOPICS.events]
    assert queued.request_id is None and job.run_id is None
    assert isinstance(queued, JobQueued)
    assert isinstance(queued.params, BatchParams)
    assert queued.params.prompts == tuple(PROMPTS)
    template = queued.params.template
    assert (template.prompt, template.width, template.height) == (PROMPTS[0], 256, 128)
    assert job.params == queued.params.model_dump(mode="json")


async def test_an_image_job_with_then_is_a_chain_parent_and_its_first_step() -> None:
    writer, user = RecordingWriter(), Principal(user_id=random_user_id(), scope="api")
    body = create_image_job(then=[{"type": "upscale", "scale": 4}, {"type": "variants"}], seed=5)

    accepted = await submit_image_job(body, user, writer, TOPICS, model="procedural")

    [[parent_write, step_write]] = writer.calls
    parent, step, [parent_queued] = parent_write.job, step_write.job, parent_write.events
    assert (accepted.job_id, accepted.type, accepted.children) == (
        parent.job_id,
        JobType.CHAIN,
        [step.job_id],
    )
    assert (parent.type, step.type, step.parent_id) == ("chain", "image", parent.job_id)
    assert parent.created_at < step.created_at
    chain = ChainParams.model_validate(parent.params)
    assert chain.steps == (UpscaleStep(scale=4), VariantsStep())
    assert chain.first.model_dump(mode="json") == step.params
    assert isinstance(parent_queued, JobQueued) and parent_queued.job_type == "chain"
    assert [m.topic for m in parent_write.messages] == [TOPICS.events]
    request = ImageJobRequested.model_validate_json(step_write.messages[1].payload)
    assert (request.parent_id, request.params.seed) == (parent.job_id, 5)


async def test_an_image_job_without_then_is_a_single_job_with_no_children() -> None:
    writer = RecordingWriter()

    accepted = await submit_image_job(
        create_image_job(),
        Principal(user_id="u-1", scope="api"),
        writer,
        TOPICS,
        model="procedural",
    )

    [[write]] = writer.calls
    job = write.job
    assert (accepted.type, accepted.children, job.parent_id) == (JobType.IMAGE, [], None)
