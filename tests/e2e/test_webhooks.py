"""Webhooks through the whole stack, `darkroom-webhooks` a process of its own: a job's terminal
event reaches its receiver signed with the owner's secret (GET /v1/webhooks/secret), the same
webhook id on each of the three attempts a failing receiver needs, each attempt listed by
GET /v1/jobs/{id}/deliveries (its owner's only); a receiver on a private address is a 422 at
submit; a sender killed while a receiver holds its attempt is replaced, and the restarted one
delivers it with the same id and a valid signature; a delivery that gave up is a dead letter
the operator lists and sends again with `darkroom-dead-letters --webhooks`."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from darkroom.runtime.embedded.stack import BIN, SERVICES, Stack, free_port
from tests.e2e.client import submit, wait_for_status
from tests.fixtures.tokens import auth
from tests.fixtures.webhook_receiver import Receiver, serve_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    yield from serve_receiver()


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = Stack.configure(
        tmp_path_factory.mktemp("webhooks"),
        kafka_bootstrap,
        suffix=f"hooks-{uuid.uuid4().hex[:8]}",
        WEBHOOK_ALLOW_LOOPBACK="true",  # the receiver is on this machine
        WEBHOOK_RETRY_BASE_S="0.2",
        WEBHOOK_TIMEOUT_S="2",
        WEBHOOK_CLAIM_S="3",
        WEBHOOK_RETRY_WINDOW_S="1.5",  # a receiver that never answers gives up within seconds
        WEBHOOK_POLL_S="0.5",  # a redriven delivery is seen at once
    )
    stack.migrate()
    stack.start(*SERVICES, "webhooks")
    yield stack
    codes = stack.stop_all()
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"unclean exits {codes}\n{stack.logs()}"


def user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


async def delivered(
    http: httpx.AsyncClient, stack: Stack, job_id: str, owner: str, status: str = "delivered"
) -> Any:
    """The job's deliveries once every one of them has `status`."""
    url = f"{stack.gateway_url}/v1/jobs/{job_id}/deliveries"
    for _ in range(600):
        answer = (await http.get(url, headers=auth(owner))).json()
        if answer["deliveries"] and all(d["status"] == status for d in answer["deliveries"]):
            return answer["deliveries"]
        await asyncio.sleep(0.1)
    raise AssertionError(f"not {status}: {answer}\n{stack.logs()}")


def dead_letters(stack: Stack, *args: str) -> str:
    """What `darkroom-dead-letters <args> --webhooks` prints (it must succeed)."""
    command = [str(BIN / "darkroom-dead-letters"), *args, "--webhooks", "--idle-s", "1"]
    ran = subprocess.run(command, env=stack.env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout


async def secret_of(http: httpx.AsyncClient, stack: Stack, owner: str) -> Webhook:
    answer = await http.get(f"{stack.gateway_url}/v1/webhooks/secret", headers=auth(owner))
    return Webhook(answer.json()["secret"])


async def test_a_failing_receiver_gets_the_terminal_event_signed_on_its_third_attempt(
    stack: Stack, receiver: Receiver
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, webhook_url=f"{receiver.url}/flaky")
        done = await wait_for_status(http, job["status_url"], owner, "completed")
        (delivery,) = await delivered(http, stack, job["job_id"], owner)
        secret = await secret_of(http, stack, owner)
        stranger = await http.get(
            f"{stack.gateway_url}/v1/jobs/{job['job_id']}/deliveries", headers=auth(user())
        )
        private = await http.post(
            f"{stack.gateway_url}/v1/jobs/image",
            json={"prompt": "a harbour", "webhook_url": "http://10.1.2.3/hook"},
            headers=auth(owner),
        )

    attempts = [
        a for a in receiver.at("/flaky") if a.headers["webhook-id"] == delivery["webhook_id"]
    ]
    assert len(attempts) == 3
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 500, 200]
    event = secret.verify(attempts[-1].body, attempts[-1].headers)
    assert (event["type"], event["job_id"]) == ("job.completed", job["job_id"])
    assert event["result"]["assets"][0]["key"] == done["assets"][0]["key"]
    assert stranger.status_code == 404
    assert private.status_code == 422
    (error,) = private.json()["detail"]
    assert error["loc"] == ["body", "webhook_url"] and "private" in error["msg"]


async def test_a_sender_killed_mid_delivery_is_replaced_and_the_delivery_made_once_back(
    stack: Stack, receiver: Receiver
) -> None:
    owner = user()
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(http, stack.gateway_url, owner, webhook_url=f"{receiver.url}/hang")
        await wait_for_status(http, job["status_url"], owner, "completed")
        for _ in range(300):  # the receiver holds the first attempt
            if receiver.at("/hang"):
                break
            await asyncio.sleep(0.02)
        assert stack.stop("webhooks", signal.SIGKILL) == -signal.SIGKILL
        stack.start("webhooks")
        (delivery,) = await delivered(http, stack, job["job_id"], owner)
        secret = await secret_of(http, stack, owner)

    first, second = receiver.at("/hang")
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery["webhook_id"]
    assert json.loads(secret.verify(second.body, second.headers) and second.body)["type"] == (
        "job.completed"
    )
    interrupted, made = delivery["attempts"]
    assert interrupted["status_code"] is None and "interrupted" in interrupted["error"]
    assert made["status_code"] == 200


async def test_a_delivery_that_gave_up_is_a_dead_letter_the_operator_sends_again(
    stack: Stack,
) -> None:
    owner, port = user(), free_port()  # nothing listens there yet
    async with httpx.AsyncClient(timeout=30) as http:
        job = await submit(
            http, stack.gateway_url, owner, webhook_url=f"http://127.0.0.1:{port}/hook"
        )
        await wait_for_status(http, job["status_url"], owner, "completed")
        (failed,) = await delivered(http, stack, job["job_id"], owner, "failed")
        listed = dead_letters(stack, "list")
        receivers = serve_receiver(port)
        late = next(receivers)
        try:
            redriven = dead_letters(stack, "replay", "--job", job["job_id"])
            (made,) = await delivered(http, stack, job["job_id"], owner)
        finally:
            receivers.close()

    assert len(failed["attempts"]) >= 2
    assert all("could not connect" in a["error"] for a in failed["attempts"]), failed
    assert f"{failed['webhook_id']} of job {job['job_id']}: job.completed" in listed
    assert f"{failed['webhook_id']} pending again" in redriven
    (arrived,) = late.at("/hook")
    assert arrived.headers["webhook-id"] == made["webhook_id"] == failed["webhook_id"]
    assert made["attempts"][-1]["status_code"] == 200
