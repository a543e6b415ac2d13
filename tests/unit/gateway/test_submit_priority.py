"""`priority: high` jumps the queue: only a token that grants it, or an admin's, may ask for it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from darkroom.contracts.api import CreateBatchJob, CreateUpscaleJob, CreateVideoJob
from darkroom.contracts.jobtypes import Priority
from darkroom.contracts.topics import Topics
from darkroom.gateway.errors import PriorityNotAllowed
from darkroom.gateway.submit import (
    Accepted,
    submit_batch_job,
    submit_image_job,
    submit_upscale_job,
    submit_video_job,
)
from darkroom.runtime.auth import Principal
from tests.factories import create_image_job, random_user_id

TOPICS = Topics.with_suffix("unit")


class RecordingWriter:
    """Keeps every job it is asked to store (and is the store: URL inputs never read it)."""

    def __init__(self) -> None:
        self.priorities: list[str] = []

    async def create_jobs(self, plans: Sequence[Any]) -> None:
        self.priorities += [plan.job.priority for plan in plans]


Submit = Callable[[Principal, RecordingWriter, str], Awaitable[Accepted]]


async def _image(user: Principal, writer: RecordingWriter, priority: str) -> Accepted:
    return await submit_image_job(
        create_image_job(priority=priority), user, writer, TOPICS, model="procedural"
    )


async def _chain(user: Principal, writer: RecordingWriter, priority: str) -> Accepted:
    body = create_image_job(priority=priority, then=[{"type": "upscale", "scale": 2}])
    return await submit_image_job(body, user, writer, TOPICS, model="procedural")


async def _batch(user: Principal, writer: RecordingWriter, priority: str) -> Accepted:
    body = CreateBatchJob.model_validate({"prompts": ["a fox", "an owl"], "priority": priority})
    return await submit_batch_job(body, user, writer, TOPICS, model="procedural")


async def _upscale(user: Principal, writer: RecordingWriter, priority: str) -> Accepted:
    image: dict[str, Any] = {"url": "https://example.com/in.png"}
    body = CreateUpscaleJob.model_validate({"image": image, "priority": priority})
    return await submit_upscale_job(body, user, writer, writer, TOPICS)  # type: ignore[arg-type]


async def _video(user: Principal, writer: RecordingWriter, priority: str) -> Accepted:
    body = CreateVideoJob.model_validate({"prompt": "waves", "priority": priority})
    return await submit_video_job(body, user, writer, writer, TOPICS)  # type: ignore[arg-type]


EVERY_SUBMIT = pytest.mark.parametrize(
    "submit",
    [_image, _chain, _batch, _upscale, _video],
    ids=["image", "chain", "batch", "upscale", "video"],
)


def caller(**claims: Any) -> Principal:
    return Principal(user_id=random_user_id(), scope="api", **claims)


@EVERY_SUBMIT
async def test_high_priority_without_a_grant_is_refused_and_nothing_is_stored(
    submit: Submit,
) -> None:
    writer = RecordingWriter()

    with pytest.raises(PriorityNotAllowed) as refused:
        await submit(caller(), writer, "high")

    assert refused.value.loc == ("body", "priority")
    assert "not allowed" in str(refused.value)
    assert writer.priorities == []


@EVERY_SUBMIT
@pytest.mark.parametrize(
    "claims",
    [{"priorities": frozenset({Priority.HIGH})}, {"is_admin": True}],
    ids=["granted", "admin"],
)
async def test_high_priority_is_accepted_from_a_token_that_grants_it_or_an_admin(
    submit: Submit, claims: dict[str, Any]
) -> None:
    writer = RecordingWriter()

    await submit(caller(**claims), writer, "high")

    assert writer.priorities
    assert set(writer.priorities) == {"high"}


@EVERY_SUBMIT
@pytest.mark.parametrize("priority", ["normal", "low"])
async def test_normal_and_low_priority_need_no_grant(submit: Submit, priority: str) -> None:
    writer = RecordingWriter()

    await submit(caller(), writer, priority)

    assert writer.priorities
    assert set(writer.priorities) == {priority}
