"""How children's states move a batch or chain parent: its events, numbered on from its row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from darkroom.contracts.assets import AssetDescriptor, JobResult
from darkroom.contracts.envelope import make_event_id
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.events import (
    JobCancelled,
    JobCompleted,
    JobCompletedWithErrors,
    JobEvent,
    JobFailed,
    JobProgress,
    JobQueued,
    parse_event,
)
from darkroom.contracts.params import (
    BatchParams,
    ChainParams,
    UpscaleParams,
    UpscaleStep,
    VariantsStep,
)
from darkroom.contracts.requests import UpscaleJobRequested
from darkroom.contracts.topics import Topics
from darkroom.jobs.plans.family import plan_family, tally
from darkroom.jobs.records import JobRecord, Plan
from tests.factories import OCCURRED_AT, asset_descriptor, image_params, job_record

TOPICS = Topics.with_suffix("unit")
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
STEP_ERROR = {"code": "input_refused", "message": "input gone", "retryable": False}


def batch(status: str = "queued", size: int = 3, **overrides: Any) -> JobRecord:
    prompts = tuple(f"prompt {i}" for i in range(size))
    params = BatchParams(prompts=prompts, template=image_params(prompt=prompts[0]))
    values = {
        "type": "batch",
        "attempts": 0,
        "last_seq": 1,
        "params": params.model_dump(mode="json"),
    }
    return job_record(status, **(values | overrides))


def chain(status: str = "running", **overrides: Any) -> JobRecord:
    params = ChainParams(first=image_params(), steps=(UpscaleStep(scale=2), VariantsStep()))
    values = {"type": "chain", "last_seq": 4, "params": params.model_dump(mode="json")}
    return job_record(status, **(values | overrides))


def result_of(*assets: AssetDescriptor) -> dict[str, Any]:
    return JobResult(assets=list(assets)).model_dump(mode="json")


def children(parent: JobRecord, *specs: tuple[str, dict[str, Any]]) -> list[JobRecord]:
    """Children of `parent` in creation order; a completed child has one asset unless given."""
    made = []
    for index, (status, overrides) in enumerate(specs, start=1):
        values: dict[str, Any] = {
            "parent_id": parent.job_id,
            "attempts": 0 if status == "queued" else 1,
            "created_at": OCCURRED_AT + timedelta(microseconds=index),
            "progress": 100 if status == "completed" else 0,
        }
        if status == "completed":
            values["result"] = result_of(asset_descriptor())
        if status == "failed":
            values["error"] = STEP_ERROR
        made.append(job_record(status, **(values | overrides)))
    return made


def events_of(plan: Plan) -> list[JobEvent]:
    return [change.event for change in plan.changes]


def plan(parent: JobRecord, kids: list[JobRecord]) -> Plan:
    return plan_family(parent, kids, TOPICS, NOW)


def test_the_first_child_to_start_starts_the_batch() -> None:
    parent = batch("queued", last_seq=1)
    kids = children(parent, ("running", {"progress": 30}), ("queued", {}), ("queued", {}))

    decided = plan(parent, kids)

    started, progress = events_of(decided)
    assert (started.type, started.seq, started.attempt) == ("job.started", 2, 1)
    assert started.event_id == make_event_id(parent.job_id, 1, 2, "job.started")
    assert isinstance(progress, JobProgress)
    assert (progress.seq, progress.percent) == (3, 10)
    assert progress.event_id == make_event_id(parent.job_id, 1, 3, "job.progress")
    assert [m.topic for m in decided.messages] == [TOPICS.events] * 2
    assert [parse_event(m.payload) for m in decided.messages] == [started, progress]
    assert decided.new_jobs == []


def test_batch_progress_is_the_mean_of_its_children_with_ended_ones_at_100() -> None:
    parent = batch("running", size=4, last_seq=9)
    kids = children(
        parent,
        ("completed", {}),
        ("failed", {}),
        ("running", {"progress": 50}),
        ("queued", {}),
    )

    [progress] = events_of(plan(parent, kids))

    assert isinstance(progress, JobProgress)
    assert (progress.seq, progress.percent) == (10, (100 + 100 + 50 + 0) // 4)
    assert progress.message == "2/4 done: 1 completed, 1 failed"


def test_batch_progress_is_not_emitted_again_when_it_did_not_change() -> None:
    parent = batch("running", size=2)
    kids = children(parent, ("running", {"progress": 40}), ("queued", {}))
    [progress] = events_of(plan(parent, kids))
    moved = batch(
        "running",
        size=2,
        job_id=parent.job_id,
        progress=progress.percent,  # type: ignore[union-attr]
        message=progress.message,  # type: ignore[union-attr]
    )

    assert plan(moved, children(moved, ("running", {"progress": 40}), ("queued", {}))) == Plan()


def test_a_batch_whose_children_all_completed_completes_with_their_assets_in_order() -> None:
    parent = batch("running", size=3, last_seq=12)
    assets = [[asset_descriptor()], [asset_descriptor(), asset_descriptor()], [asset_descriptor()]]
    kids = children(parent, *(("completed", {"result": result_of(*a)}) for a in assets))

    [completed] = events_of(plan(parent, kids))

    assert isinstance(completed, JobCompleted)
    assert completed.seq == 13
    assert completed.event_id == make_event_id(parent.job_id, 1, 13, "job.completed")
    assert completed.result.assets == [a for group in assets for a in group]


def test_a_batch_with_some_failed_children_completes_with_errors_listing_exactly_them() -> None:
    parent = batch("running", size=4)
    kids = children(parent, ("completed", {}), ("failed", {}), ("cancelled", {}), ("completed", {}))

    [event] = events_of(plan(parent, kids))

    assert isinstance(event, JobCompletedWithErrors)
    assert [(f.job_id, f.status) for f in event.failed_children] == [
        (kids[1].job_id, "failed"),
        (kids[2].job_id, "cancelled"),
    ]
    assert event.failed_children[0].code is ErrorCode.INPUT_REFUSED
    assert event.failed_children[1].code is None
    completed = [JobResult.model_validate(k.result).assets for k in (kids[0], kids[3])]
    assert event.result.assets == [*completed[0], *completed[1]]


def test_a_batch_none_of_whose_children_completed_fails_with_children_failed() -> None:
    parent = batch("running", size=2)
    kids = children(parent, ("failed", {}), ("cancelled", {}))

    [event] = events_of(plan(parent, kids))

    assert isinstance(event, JobFailed)
    assert (event.code, event.retryable) == (ErrorCode.CHILDREN_FAILED, False)
    assert "none of the 2 children completed" in event.message


@pytest.mark.parametrize(
    ("statuses", "note"),
    [
        (("completed", "completed"), "2/2 done: 2 completed"),
        (("completed", "failed", "cancelled"), "3/3 done: 1 completed, 1 failed, 1 cancelled"),
        (("failed", "cancelled"), "2/2 done: 1 failed, 1 cancelled"),
    ],
)
def test_a_batchs_final_event_leaves_its_tally_as_the_rows_message(
    statuses: tuple[str, ...], note: str
) -> None:
    parent = batch("running", size=len(statuses))
    kids = children(parent, *((status, {}) for status in statuses))

    [change] = plan(parent, kids).changes

    assert change.event.type in ("job.completed", "job.completed_with_errors", "job.failed")
    assert change.update.message == note == tally(kids)


@pytest.mark.parametrize("status", ["completed", "completed_with_errors", "failed", "cancelled"])
def test_a_parent_that_has_ended_never_moves(status: str) -> None:
    parent = batch(status, size=2)
    kids = children(parent, ("completed", {}), ("running", {"progress": 10}))

    ended_chain = chain(status)

    assert plan(parent, kids) == Plan()
    assert plan(ended_chain, children(ended_chain, ("completed", {}))) == Plan()


def test_a_completed_chain_step_queues_the_next_step_on_its_first_output() -> None:
    parent = chain("running", last_seq=4)
    first, second = asset_descriptor(), asset_descriptor()
    kids = children(parent, ("completed", {"result": result_of(first, second)}))

    decided = plan(parent, kids)

    [step] = decided.new_jobs
    job, [queued], messages = step.job, step.events, step.messages
    assert (job.type, job.parent_id, job.user_id) == ("upscale", parent.job_id, parent.user_id)
    params = UpscaleParams.model_validate(job.params)
    assert (params.input.key, params.scale) == (first.key, 2)
    assert isinstance(queued, JobQueued) and queued.parent_id == parent.job_id
    assert [m.topic for m in messages] == [TOPICS.events, TOPICS.upscale.requested]
    request = UpscaleJobRequested.model_validate_json(messages[1].payload)
    assert (request.job_id, request.parent_id) == (job.job_id, parent.job_id)
    assert request.request_id == queued.request_id == job.run_id
    [progress] = events_of(decided)
    assert isinstance(progress, JobProgress)
    assert (progress.seq, progress.percent) == (5, 33)
    assert progress.message == "step 2 of 3 (upscale) queued"


def test_the_next_chain_step_gets_the_same_job_id_from_the_same_family() -> None:
    parent = chain("running")
    kids = children(parent, ("completed", {}))

    [once] = plan(parent, kids).new_jobs
    [again] = plan(parent, kids).new_jobs
    [other] = plan(chain("running"), kids).new_jobs

    assert once.job.job_id == again.job.job_id
    assert other.job.job_id != once.job.job_id


def test_a_chain_completes_with_the_last_steps_assets() -> None:
    parent = chain("running", last_seq=8)
    variants = [asset_descriptor(content_type="image/webp") for _ in range(6)]
    kids = children(
        parent,
        ("completed", {}),
        ("completed", {}),
        ("completed", {"result": result_of(*variants)}),
    )

    decided = plan(parent, kids)

    [change] = decided.changes
    completed = change.event
    assert isinstance(completed, JobCompleted)
    assert completed.seq == 9
    assert completed.event_id == make_event_id(parent.job_id, 1, 9, "job.completed")
    assert completed.result.assets == variants
    assert change.update.message == "completed all 3 steps"
    assert decided.new_jobs == []


def test_a_failed_chain_step_fails_the_chain_naming_the_step() -> None:
    parent = chain("running", last_seq=6)
    kids = children(parent, ("completed", {}), ("failed", {}))

    [change] = plan(parent, kids).changes

    failed = change.event
    assert isinstance(failed, JobFailed)
    assert (failed.seq, failed.code, failed.retryable) == (7, ErrorCode.STEP_FAILED, False)
    assert "step 2 of 3 (upscale" in failed.message
    assert "input_refused: input gone" in failed.message
    assert change.update.message == failed.message[:200]


def test_a_cancelled_chain_step_cancels_the_chain() -> None:
    parent = chain("running", last_seq=6)
    kids = children(parent, ("completed", {}), ("cancelled", {}))

    [change] = plan(parent, kids).changes

    assert isinstance(change.event, JobCancelled)
    assert (change.event.cancelled_by, change.event.while_running) == ("orchestrator", True)
    assert change.update.message == f"step 2 of 3 (upscale, job {kids[1].job_id}) was cancelled"


def test_a_running_chain_step_moves_the_chain_within_that_steps_share() -> None:
    parent = chain("running", progress=33, last_seq=5)
    kids = children(parent, ("completed", {}), ("running", {"progress": 60}))

    [progress] = events_of(plan(parent, kids))

    assert isinstance(progress, JobProgress)
    assert (progress.seq, progress.percent) == (6, (100 + 60) // 3)
    assert progress.message.startswith(f"step 2 of 3 (upscale, job {kids[1].job_id})")
