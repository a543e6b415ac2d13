"""A batch's or chain's stream carries every event of the family (the parent's and all its
children's), with the recorded ids, whether the client connects late or reconnects mid-way with
Last-Event-ID: what it gets is the family's accepted history in the database, each event once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse

from darkroom.contracts.events import TERMINAL_EVENT_TYPES
from darkroom.runtime.db import open_database
from darkroom.runtime.db.history import EventHistory
from darkroom.runtime.embedded.stack import SERVICES, Stack
from darkroom.runtime.settings import DatabaseSettings
from tests.e2e.client import Received, data_events, follow, wait_for_status
from tests.fixtures.tokens import auth

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def family_stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The core services and the upscale worker (a chain's second step), with slow steps so a
    client can leave while a batch is half done."""
    workdir: Path = tmp_path_factory.mktemp("family")
    stack = Stack.configure(
        workdir,
        kafka_bootstrap,
        suffix=workdir.name.replace("_", "-"),
        LOCAL_PROVIDER_STEP_DELAY_S="0.05",
    )
    stack.migrate()
    stack.start(*SERVICES, "upscale-worker")
    yield stack
    stack.stop_all()


async def submit(
    http: httpx.AsyncClient, stack: Stack, owner: str, kind: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        f"{stack.gateway_url}/v1/jobs/{kind}", json=body, headers=auth(owner)
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


async def first_events_until_a_child_completes(
    http: httpx.AsyncClient, url: str, owner: str
) -> list[Received]:
    """The stream's events up to the first child's `job.completed`; then the client leaves."""
    received: list[Received] = []
    async with asyncio.timeout(60), aconnect_sse(http, "GET", url, headers=auth(owner)) as source:
        assert source.response.status_code == 200, await source.response.aread()
        async for sse in data_events(source):
            received.append(Received(sse.event, sse.id, sse.json()))
            if sse.event == "job.completed":
                return received
    raise AssertionError(f"the stream ended after {len(received)} events, no child completed")


async def family_history(stack: Stack, parent_id: str) -> list[tuple[str, str]]:
    """(recorded id, event id) of the family's accepted events up to the parent's terminal one,
    from the database."""
    db = open_database(DatabaseSettings(database_url=stack.env["DATABASE_URL"]))
    try:
        recorded = await EventHistory(db).family_events_after(uuid.UUID(parent_id), 0, limit=10_000)
    finally:
        await db.dispose()
    ends = [
        i
        for i, r in enumerate(recorded)
        if str(r.event.job_id) == parent_id and r.event.type in TERMINAL_EVENT_TYPES
    ]
    return [(str(r.id), str(r.event.event_id)) for r in recorded[: ends[-1] + 1]]


def sent(received: list[Received]) -> list[tuple[str, str]]:
    return [(r.id, r.data["event_id"]) for r in received]


async def test_a_batch_stream_resumed_mid_way_carries_every_child_event_once(
    family_stack: Stack,
) -> None:
    owner = f"u-{uuid.uuid4().hex[:8]}"
    body = {"prompts": [f"tile {i}" for i in range(4)], "width": 64, "height": 64}
    async with httpx.AsyncClient(timeout=30) as http:
        batch = await submit(http, family_stack, owner, "batch", body)
        before = await first_events_until_a_child_completes(http, batch["events_url"], owner)
        resumed = await follow(
            http, batch["events_url"], {**auth(owner), "Last-Event-ID": before[-1].id}
        )

    assert sent(before + resumed) == await family_history(family_stack, batch["job_id"])
    assert {r.data["job_id"] for r in before + resumed} == {batch["job_id"], *batch["children"]}
    assert (resumed[-1].event, resumed[-1].data["job_id"]) == ("job.completed", batch["job_id"])


async def test_a_late_client_of_a_finished_chain_gets_every_steps_events_then_the_close(
    family_stack: Stack,
) -> None:
    owner = f"u-{uuid.uuid4().hex[:8]}"
    body = {
        "prompt": "a red kite",
        "width": 64,
        "height": 64,
        "then": [{"type": "upscale", "scale": 2}],
    }
    async with httpx.AsyncClient(timeout=30) as http:
        chain = await submit(http, family_stack, owner, "image", body)
        view = await wait_for_status(http, chain["status_url"], owner, "completed")
        received = await follow(http, chain["events_url"], auth(owner))

    assert sent(received) == await family_history(family_stack, chain["job_id"])
    steps = {c["job_id"] for c in view["children"]}
    assert len(steps) == 2 and {r.data["job_id"] for r in received} == {chain["job_id"], *steps}
    assert [int(r.id) for r in received] == sorted({int(r.id) for r in received})
