"""`AttemptEvents`: a run's events are numbered from the request's first_seq; their ids derive
from the run (the request), so two runs of a job never share one."""

import uuid

from darkroom.contracts.assets import JobResult
from darkroom.contracts.envelope import TraceContext, make_event_id
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.jobtypes import JobType
from darkroom.runtime.job_events import AttemptEvents, next_request_id
from tests.factories import asset_descriptor, image_request

TRACE = TraceContext(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")


def test_events_are_numbered_consecutively_from_first_seq() -> None:
    request = image_request(attempt=3, first_seq=9, trace=TRACE)
    events = AttemptEvents(request, JobType.IMAGE)

    made = [
        events.started("worker-1"),
        events.progress(10, "step 1/2"),
        events.progress(20, "step 2/2"),
        events.completed(JobResult(assets=[asset_descriptor()])),
    ]

    assert [e.seq for e in made] == [9, 10, 11, 12]
    assert {(e.job_id, e.user_id, e.attempt, e.job_type) for e in made} == {
        (request.job_id, request.user_id, 3, JobType.IMAGE)
    }
    assert all(e.trace == TRACE for e in made)
    assert {e.request_id for e in made} == {request.request_id}


def test_event_ids_are_made_from_job_run_seq_and_type() -> None:
    request = image_request(attempt=2, first_seq=5)
    events = AttemptEvents(request, JobType.IMAGE)

    started, failed = events.started("w"), events.failed(ErrorCode.TIMEOUT, "slow", True)

    run = request.request_id
    assert started.event_id == make_event_id(request.job_id, 2, 5, "job.started", run)
    assert failed.event_id == make_event_id(request.job_id, 2, 6, "job.failed", run)


def test_a_rerun_of_the_same_request_makes_the_same_ids() -> None:
    request = image_request()

    def ids() -> list[object]:
        events = AttemptEvents(request, JobType.IMAGE)
        return [events.started("w").event_id, events.progress(50, "").event_id]

    assert ids() == ids()


def test_another_attempt_makes_other_ids() -> None:
    first = image_request()
    retry = first.model_copy(update={"attempt": 2, "request_id": next_request_id(first)})

    a = AttemptEvents(first, JobType.IMAGE).started("w")
    b = AttemptEvents(retry, JobType.IMAGE).started("w")

    assert a.seq == b.seq
    assert a.event_id != b.event_id


def test_a_run_that_replaces_another_at_the_same_attempt_and_seq_makes_other_ids() -> None:
    first = image_request()
    replacement = first.model_copy(update={"request_id": uuid.uuid4()})

    a = AttemptEvents(first, JobType.IMAGE).started("w")
    b = AttemptEvents(replacement, JobType.IMAGE).started("w")

    assert (a.seq, a.attempt) == (b.seq, b.attempt)
    assert a.event_id != b.event_id


def test_job_retrying_names_the_next_attempts_request() -> None:
    request = image_request(attempt=2)
    events = AttemptEvents(request, JobType.IMAGE)

    retrying = events.retrying(ErrorCode.TIMEOUT, "slow", request.requested_at)

    assert retrying.next_request_id == next_request_id(request)
    assert retrying.next_request_id == uuid.uuid5(request.job_id, "request/3")


def test_a_failure_message_is_cut_to_what_the_event_allows() -> None:
    events = AttemptEvents(image_request(), JobType.IMAGE)

    failed = events.failed(ErrorCode.INTERNAL, "x" * 5000, retryable=False)

    assert failed.message == "x" * 2000
    assert (failed.code, failed.retryable) == (ErrorCode.INTERNAL, False)
