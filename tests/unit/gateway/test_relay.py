"""The outbox relay: events are on the log before requests, and rows go only once acknowledged."""

import asyncio
import uuid

import pytest

from darkroom.gateway.relay import OutboxRelay
from darkroom.runtime.db import OutboxRow
from tests.unit.gateway.fakes import FakeJobStore, FakeProducer

EVENTS, REQUESTS = "jobs.events.unit", "jobs.image.requested.unit"


def outbox_rows() -> list[OutboxRow]:
    """Two jobs' rows as submit writes them: each job's event, then its request."""
    rows: list[OutboxRow] = []
    for job in (uuid.uuid4(), uuid.uuid4()):
        for topic in (EVENTS, REQUESTS):
            headers = {"content-type": "application/json"}
            rows.append(OutboxRow(topic, str(job), b"{}", headers, id=len(rows) + 1))
    return rows


def relay_with(
    rows: list[OutboxRow], auto_ack: bool = True, fail: frozenset[str] = frozenset()
) -> tuple[OutboxRelay, FakeJobStore, FakeProducer, list[str]]:
    log: list[str] = []
    store = FakeJobStore(rows, log)
    producer = FakeProducer(log, auto_ack=auto_ack, fail=fail)
    return OutboxRelay(store, producer, EVENTS, batch_size=100), store, producer, log  # type: ignore[arg-type]


async def test_every_event_row_is_acknowledged_before_any_request_row_is_sent() -> None:
    rows = outbox_rows()
    relay, _, _, log = relay_with(rows)

    assert await relay.publish_round() == 4

    event_acks = [i for i, line in enumerate(log) if line.startswith(f"ack {EVENTS}")]
    request_sends = [i for i, line in enumerate(log) if line.startswith(f"send {REQUESTS}")]
    assert len(event_acks) == 2 and len(request_sends) == 2
    assert max(event_acks) < min(request_sends)


async def test_rows_are_sent_with_their_key_payload_and_headers() -> None:
    rows = outbox_rows()
    relay, _, producer, _ = relay_with(rows)

    await relay.publish_round()

    by_topic = sorted(rows, key=lambda r: r.topic != EVENTS)
    assert [(s["topic"], s["key"], s["value"]) for s in producer.sent] == [
        (r.topic, r.key.encode(), r.payload) for r in by_topic
    ]
    assert producer.sent[0]["headers"] == [("content-type", b"application/json")]


async def test_rows_are_deleted_only_after_every_send_is_acknowledged() -> None:
    rows = outbox_rows()
    relay, store, producer, log = relay_with(rows, auto_ack=False)
    round_ = asyncio.create_task(relay.publish_round())

    await producer.wait_for_sends(2)
    assert store.outbox.deleted == []
    producer.ack_all()
    await producer.wait_for_sends(4)
    assert store.outbox.deleted == []
    producer.ack_all()

    assert await asyncio.wait_for(round_, 2) == 4
    assert store.outbox.deleted == [1, 2, 3, 4]
    assert log[-1] == "delete [1, 2, 3, 4]"
    assert sum(line.startswith("ack") for line in log[:-1]) == 4


@pytest.mark.parametrize("failing_topic", [EVENTS, REQUESTS])
async def test_a_failed_send_deletes_nothing_and_propagates(failing_topic: str) -> None:
    relay, store, _, _ = relay_with(outbox_rows(), fail=frozenset({failing_topic}))

    with pytest.raises(ConnectionError):
        await relay.publish_round()

    assert store.outbox.deleted == []
    assert len(store.outbox.rows) == 4


async def test_a_failed_event_send_keeps_the_requests_unsent() -> None:
    relay, _, producer, _ = relay_with(outbox_rows(), fail=frozenset({EVENTS}))

    with pytest.raises(ConnectionError):
        await relay.publish_round()

    assert {s["topic"] for s in producer.sent} == {EVENTS}


async def test_an_empty_outbox_publishes_nothing() -> None:
    relay, store, producer, _ = relay_with([])

    assert await relay.publish_round() == 0
    assert producer.sent == [] and store.outbox.deleted == []


async def test_drain_publishes_until_the_outbox_is_empty() -> None:
    relay, store, _, _ = relay_with(outbox_rows())
    relay.batch_size = 3

    assert await relay.drain() == 4
    assert store.outbox.rows == [] and store.outbox.deleted == [1, 2, 3, 4]
