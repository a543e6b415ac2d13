"""The hub: routes live events to job and user streams, and remembers each job's recent events."""

import pytest

from darkroom.notifier.hub import Hub, StreamOverflow, Subscription
from tests.factories import job_progress, job_timeline, random_job_id, random_user_id


def drained(sub: Subscription) -> list[int]:
    """The seqs waiting in a subscription's queue, emptying it."""
    seqs = []
    while not sub.queue.empty():
        seqs.append(sub.queue.get_nowait().seq)
    return seqs


def test_an_event_reaches_the_streams_of_its_job_and_of_its_user_only() -> None:
    hub, owner, other_user = Hub(), random_user_id(), random_user_id()
    event = job_progress(user_id=owner)
    with (
        hub.job(event.job_id) as same_job,
        hub.job(random_job_id()) as other_job,
        hub.user(owner) as same_user,
        hub.user(other_user) as other_users,
    ):
        hub.publish(event)

        assert drained(same_job) == drained(same_user) == [event.seq]
        assert drained(other_job) == drained(other_users) == []


def test_leaving_the_context_unsubscribes() -> None:
    hub, event = Hub(), job_progress()
    with hub.job(event.job_id) as by_job, hub.user(event.user_id) as by_user:
        assert hub.open_streams == 2

    hub.publish(event)

    assert hub.open_streams == 0
    assert drained(by_job) == drained(by_user) == []


def test_a_job_stream_starts_with_the_jobs_recent_events() -> None:
    hub = Hub()
    events = job_timeline("job.queued", "job.started", "job.progress")
    for event in events:
        hub.publish(event)

    with hub.job(events[0].job_id) as sub:
        assert sub.recent == events
        assert drained(sub) == []


def test_recent_events_are_bounded_per_job_keeping_the_newest() -> None:
    hub = Hub(recent_per_job=3)
    events = job_timeline(*["job.progress"] * 5)
    for event in events:
        hub.publish(event)

    with hub.job(events[0].job_id) as sub:
        assert [e.seq for e in sub.recent] == [3, 4, 5]


def test_the_least_recently_active_job_is_forgotten_first() -> None:
    hub = Hub(recent_jobs=2)
    a, b, c = (job_progress(seq=2) for _ in range(3))
    hub.publish(a)
    hub.publish(b)
    hub.publish(job_progress(job_id=a.job_id, user_id=a.user_id, seq=3))  # a is active again
    hub.publish(c)

    remembered = {}
    for event in (a, b, c):
        with hub.job(event.job_id) as sub:
            remembered[event.job_id] = [e.seq for e in sub.recent]
    assert remembered == {a.job_id: [2, 3], b.job_id: [], c.job_id: [2]}


async def test_a_slow_subscriber_gets_what_fitted_then_overflows() -> None:
    hub = Hub(queue_size=2)
    events = job_timeline(*["job.progress"] * 3)
    with hub.job(events[0].job_id) as sub:
        for event in events:
            hub.publish(event)

        assert [(await sub.next()).seq for _ in range(2)] == [1, 2]
        with pytest.raises(StreamOverflow):
            await sub.next()
