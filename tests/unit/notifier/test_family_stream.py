"""A batch's or chain's SSE stream: the family's accepted events in recorded order, with the
recorded ids, resumable with no gap and no duplicate, ending at the parent's terminal event."""

from contextlib import aclosing

import pytest

from darkroom.contracts.events import JobEvent, parse_event
from darkroom.notifier import streams
from darkroom.notifier.hub import Hub
from darkroom.notifier.streams import family_stream
from tests.factories import job_progress, job_timeline
from tests.unit.notifier.fakes import FakeHistory, collect, live, recorded_ids, take


def a_family(children: int = 2) -> tuple[list[JobEvent], list[list[JobEvent]]]:
    """A parent's own events and its children's (each child queued, started, completed)."""
    parent = job_timeline("job.queued", "job.progress", "job.completed")
    kids = [
        job_timeline(
            "job.queued",
            "job.started",
            "job.completed",
            user_id=parent[0].user_id,
            parent_id=parent[0].job_id,
        )
        for _ in range(children)
    ]
    return parent, kids


def in_recorded_order(parent: list[JobEvent], kids: list[list[JobEvent]]) -> list[JobEvent]:
    """Parent and children queued together, the children run one after the other, the parent's
    progress after the first, its terminal event with the last child's."""
    run = [parent[0], *(k[0] for k in kids)]
    for i, kid in enumerate(kids):
        run += kid[1:]
        if i == 0:
            run.append(parent[1])
    return [*run, parent[2]]


async def test_the_stream_carries_every_child_event_in_recorded_order_history_then_live() -> None:
    parent, kids = a_family()
    order, hub, history = in_recorded_order(parent, kids), Hub(), FakeHistory()
    history.record(*order[:4])
    async with aclosing(family_stream(parent[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        sent = await take(stream, 4)
        live(hub, history, *order[4:])
        sent += await collect(stream)

    assert [parse_event(s.data) for s in sent] == order
    assert recorded_ids(sent, history) == list(range(1, len(order) + 1))


@pytest.mark.parametrize("cut", [1, 3, 6])
async def test_a_reconnect_with_last_event_id_resumes_with_no_gap_and_no_duplicate(
    cut: int,
) -> None:
    parent, kids = a_family()
    order, hub, history = in_recorded_order(parent, kids), Hub(), FakeHistory()
    history.record(*order[:7])
    async with aclosing(family_stream(parent[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        before = await take(stream, cut)
    live(hub, history, *order[7:])  # while the client is away

    resumed = family_stream(parent[0].job_id, int(before[-1].id), hub, history)  # type: ignore[arg-type,arg-type]
    after = await collect(resumed)

    assert [parse_event(s.data) for s in before + after] == order


async def test_the_stream_ends_at_the_parents_terminal_event() -> None:
    parent, kids = a_family()
    order, hub, history = in_recorded_order(parent, kids), Hub(), FakeHistory()
    late_child = job_progress(
        job_id=kids[0][0].job_id, user_id=parent[0].user_id, parent_id=parent[0].job_id, seq=9
    )
    history.record(*order, late_child)  # a child that ended after its parent

    sent = await collect(family_stream(parent[0].job_id, 0, hub, history))  # type: ignore[arg-type]

    assert [parse_event(s.data) for s in sent] == order
    assert hub.open_streams == 0


async def test_a_refused_child_event_never_appears() -> None:
    parent, kids = a_family()
    order, hub, history = in_recorded_order(parent, kids), Hub(), FakeHistory()
    stale = job_progress(
        job_id=kids[0][0].job_id, user_id=parent[0].user_id, parent_id=parent[0].job_id, attempt=3
    )
    history.record(*order[:3])
    history.record(stale, accepted=False)
    async with aclosing(family_stream(parent[0].job_id, 0, hub, history)) as stream:  # type: ignore[arg-type]
        sent = await take(stream, 3)
        live(hub, history, stale, accepted=False)
        live(hub, history, *order[3:])
        sent += await collect(stream)

    assert stale.event_id not in {parse_event(s.data).event_id for s in sent}
    assert [parse_event(s.data) for s in sent] == order


async def test_a_long_history_is_read_page_by_page_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "PAGE", 2)
    parent, kids = a_family(children=3)
    order, hub, history = in_recorded_order(parent, kids), Hub(), FakeHistory()
    history.record(*order)

    sent = await collect(family_stream(parent[0].job_id, 0, hub, history))  # type: ignore[arg-type]

    assert recorded_ids(sent, history) == list(range(1, len(order) + 1))
    assert history.reads == (len(order) + 1) // 2
