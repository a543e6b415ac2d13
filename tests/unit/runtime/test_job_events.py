"""`AttemptEvents`: an attempt's events are numbered from the request's first_seq, ids follow."""

from darkroom.contracts.assets import JobResult
from darkroom.contracts.envelope import TraceContext, make_event_id
from darkroom.contracts.errors import ErrorCode
from darkroom.contracts.jobtypes import JobType
from darkroom.runtime.job_events import AttemptEvents
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


def test_event_ids_are_made_from_job_attempt_seq_and_type() -> None:
    request = image_request(attempt=2, first_seq=5)
    events = AttemptEvents(request, JobType.IMAGE)

    started, failed = events.started("w"), events.failed(ErrorCode.TIMEOUT, "slow", True)

    assert started.event_id == make_event_id(request.job_id, 2, 5, "job.started")
    assert failed.event_id == make_event_id(request.job_id, 2, 6, "job.failed")


def test_a_rerun_of_the_same_request_makes_the_same_ids() -> None:
    request = image_request()

    def ids() -> list[object]:
        events = AttemptEvents(request, JobType.IMAGE)
        return [events.started("w").event_id, events.progress(50, "").event_id]

    assert ids() == ids()


def test_another_attempt_makes_other_ids() -> None:
    first = image_request()
    retry = first.model_copy(update={"attempt": 2})

    a = AttemptEvents(first, JobType.IMAGE).started("w")
    b = AttemptEvents(retry, JobType.IMAGE).started("w")

    assert a.seq == b.seq
    assert a.event_id != b.event_id


def test_a_failure_message_is_cut_to_what_the_event_allows() -> None:
    events = AttemptEvents(image_request(), JobType.IMAGE)

    failed = events.failed(ErrorCode.INTERNAL, "x" * 5000, retryable=False)

    assert failed.message == "x" * 2000
    assert (failed.code, failed.retryable) == (ErrorCode.INTERNAL, False)
