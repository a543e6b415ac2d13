"""The gateway's HTTP API in-process (TestClient runs the lifespan) on a real SQLite file.

Submitting only writes to the database (job row, history, outbox); Kafka is needed by /readyz.
These tests are plain functions: TestClient runs the app on its own loop in a thread.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from darkroom.contracts.envelope import utcnow
from darkroom.runtime.auth import TokenService
from darkroom.runtime.storage import make_url_signer
from tests.fixtures.tokens import auth, token_for
from tests.integration.helpers import RunningGateway, random_user, running_gateway

pytestmark = pytest.mark.integration

BODY = {"prompt": "a red fox in the snow", "width": 512, "height": 512, "seed": 7}


@pytest.fixture
def gw(tmp_path: Path, kafka_bootstrap: str, topic_suffix: str) -> Iterator[RunningGateway]:
    with running_gateway(tmp_path, kafka_bootstrap, topic_suffix) as gateway:
        yield gateway


def _submit(gw: RunningGateway, user: str, body: dict[str, Any] | None = None) -> uuid.UUID:
    response = gw.client.post("/v1/jobs/image", json=body or BODY, headers=auth(user))
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["job_id"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_submitting_an_image_job_answers_202_with_absolute_urls_and_location(
    gw: RunningGateway,
) -> None:
    response = gw.client.post("/v1/jobs/image", json=BODY, headers=auth(random_user()))
    assert response.status_code == 202
    body = response.json()
    job_id = uuid.UUID(body["job_id"])
    assert body["status"] == "queued"
    assert body["status_url"] == f"http://gateway.test/v1/jobs/{job_id}"
    assert body["events_url"] == f"http://notifier.test/v1/jobs/{job_id}/events"
    assert response.headers["Location"] == body["status_url"]


def test_a_submitted_job_is_stored_with_its_event_and_request_in_the_outbox(
    gw: RunningGateway,
) -> None:
    user = random_user()
    job_id = _submit(gw, user)
    record = gw.call(gw.services.store.get_job, job_id)
    assert record is not None and (record.user_id, record.status) == (user, "queued")
    assert record.params["width"] == 512 and record.params["seed"] == 7
    rows = gw.call(gw.services.store.outbox.fetch, 10)
    topics = gw.settings.topics
    assert [(r.topic, r.key) for r in rows] == [
        (topics.events, str(job_id)),
        (topics.image.requested, str(job_id)),
    ]
    status = gw.client.get(f"/v1/jobs/{job_id}", headers=auth(user))
    assert status.status_code == 200 and status.json()["status"] == "queued"


def test_a_request_without_a_token_is_401_with_www_authenticate_bearer(
    gw: RunningGateway,
) -> None:
    response = gw.client.post("/v1/jobs/image", json=BODY)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert gw.call(gw.services.store.outbox.count) == 0


def _signed_elsewhere(secret: str | None, issuer: str = "darkroom") -> Callable[[str], str]:
    def make(dev_secret: str) -> str:
        return TokenService(secret or dev_secret, issuer).issue("alice", timedelta(hours=1))[0]

    return make


@pytest.mark.parametrize(
    "make_token",
    [
        lambda _: "not-a-jwt",
        lambda _: token_for("alice", ttl=timedelta(seconds=-30)),
        _signed_elsewhere("another-secret-entirely-0123456789abcdef"),
        _signed_elsewhere(None, issuer="someone-else"),
    ],
    ids=["malformed", "expired", "wrong-secret", "wrong-issuer"],
)
def test_an_invalid_token_is_401(gw: RunningGateway, make_token: Callable[[str], str]) -> None:
    token = make_token(gw.settings.jwt_secret.get_secret_value())
    response = gw.client.get("/v1/jobs", headers=_bearer(token))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')


def test_a_stream_token_on_the_api_is_403(gw: RunningGateway) -> None:
    headers = _bearer(token_for(random_user(), scope="stream"))
    assert gw.client.get("/v1/jobs", headers=headers).status_code == 403
    assert gw.client.post("/v1/jobs/image", json=BODY, headers=headers).status_code == 403
    assert gw.call(gw.services.store.outbox.count) == 0


@pytest.mark.parametrize("suffix", ["", "/events"])
def test_other_users_job_is_404_exactly_like_a_missing_job(gw: RunningGateway, suffix: str) -> None:
    job_id = _submit(gw, "alice")
    others = gw.client.get(f"/v1/jobs/{job_id}{suffix}", headers=auth("mallory"))
    missing = gw.client.get(f"/v1/jobs/{uuid.uuid4()}{suffix}", headers=auth("mallory"))
    assert others.status_code == missing.status_code == 404
    assert others.json() == missing.json() == {"detail": "job not found"}


@pytest.mark.parametrize("suffix", ["", "/events"])
def test_a_job_id_that_is_not_a_uuid_is_422(gw: RunningGateway, suffix: str) -> None:
    response = gw.client.get(f"/v1/jobs/not-a-uuid{suffix}", headers=auth("alice"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "job_id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"width": 100}, "width"),
        ({"num_images": 9}, "num_images"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_body_is_422_naming_the_field_and_stores_nothing(
    gw: RunningGateway, change: dict[str, Any], field: str
) -> None:
    response = gw.client.post("/v1/jobs/image", json={**BODY, **change}, headers=auth("alice"))
    assert response.status_code == 422
    assert ["body", field] in [e["loc"] for e in response.json()["detail"]]
    assert gw.call(gw.services.store.outbox.count) == 0


def test_width_without_height_is_422_naming_height_in_loc_and_stores_nothing(
    gw: RunningGateway,
) -> None:
    body = {"prompt": "a red fox", "width": 512}
    response = gw.client.post("/v1/jobs/image", json=body, headers=auth("alice"))
    assert response.status_code == 422
    assert gw.call(gw.services.store.outbox.count) == 0
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any("height" in loc for loc in locs), response.json()


def test_listing_jobs_pages_with_limit_and_cursor_to_the_end(gw: RunningGateway) -> None:
    user = random_user()
    submitted = [_submit(gw, user) for _ in range(5)]
    _submit(gw, random_user())  # someone else's: never listed
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    for expected_size in (2, 2, 1):
        page = gw.client.get("/v1/jobs", params=params, headers=auth(user)).json()
        assert len(page["items"]) == expected_size
        seen += [item["job_id"] for item in page["items"]]
        params["cursor"] = page["next_cursor"]
    assert params["cursor"] is None
    assert seen == [str(j) for j in reversed(submitted)]


def test_listing_jobs_with_limit_101_is_422(gw: RunningGateway) -> None:
    response = gw.client.get("/v1/jobs", params={"limit": 101}, headers=auth("alice"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("cursor", ["garbage", "W10", "WyJub3QtYS1kYXRlIiwgImEiXQ"])
def test_an_invalid_cursor_is_422_naming_the_cursor(gw: RunningGateway, cursor: str) -> None:
    response = gw.client.get("/v1/jobs", params={"cursor": cursor}, headers=auth("alice"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_listing_jobs_filters_by_status_and_type(gw: RunningGateway) -> None:
    user = random_user()
    job_id = _submit(gw, user)

    def ids(**params: str) -> list[str]:
        response = gw.client.get("/v1/jobs", params=params, headers=auth(user))
        assert response.status_code == 200, response.text
        return [item["job_id"] for item in response.json()["items"]]

    assert ids(status="queued") == ids(type="image") == [str(job_id)]
    assert ids(status="running") == ids(status="completed") == []
    bad = gw.client.get("/v1/jobs", params={"status": "bogus"}, headers=auth(user))
    assert bad.status_code == 422


def test_job_events_returns_the_queued_event(gw: RunningGateway) -> None:
    user = random_user()
    job_id = _submit(gw, user)
    response = gw.client.get(f"/v1/jobs/{job_id}/events", headers=auth(user))
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == str(job_id)
    assert [(e["type"], e["seq"], e["user_id"]) for e in body["events"]] == [
        ("job.queued", 1, user)
    ]
    assert body["events"][0]["params"]["seed"] == 7


def test_stream_tokens_are_201_with_a_stream_scoped_token(gw: RunningGateway) -> None:
    user = random_user()
    response = gw.client.post("/v1/stream-tokens", headers=auth(user))
    assert response.status_code == 201
    principal = gw.services.tokens.verify(response.json()["token"])
    assert (principal.user_id, principal.scope) == (user, "stream")
    stream_token = _bearer(response.json()["token"])
    assert gw.client.post("/v1/stream-tokens", headers=stream_token).status_code == 403


def _download(gw: RunningGateway, key: str, expires: int, sig: str) -> httpx.Response:
    return gw.client.get(f"/v1/assets/{key}", params={"expires": expires, "sig": sig})


def test_a_signed_asset_url_downloads_the_bytes(gw: RunningGateway) -> None:
    key, data = f"jobs/{uuid.uuid4()}/0.png", b"\x89PNG fake image bytes"
    gw.call(gw.services.objects.put, key, data, "image/png")
    expires_at = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    sig = make_url_signer(gw.settings).sign(key, expires_at)
    response = _download(gw, key, int(expires_at.timestamp()), sig)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"


def test_a_tampered_or_expired_asset_url_is_403(gw: RunningGateway) -> None:
    key = f"jobs/{uuid.uuid4()}/0.png"
    gw.call(gw.services.objects.put, key, b"secret pixels", "image/png")
    signer = make_url_signer(gw.settings)
    future = utcnow().replace(microsecond=0) + timedelta(minutes=5)
    past = utcnow().replace(microsecond=0) - timedelta(seconds=5)
    sig = signer.sign(key, future)
    tampered = ("A" if sig[0] != "A" else "B") + sig[1:]
    assert _download(gw, key, int(future.timestamp()), tampered).status_code == 403
    assert _download(gw, key, int(future.timestamp()) + 60, sig).status_code == 403
    assert _download(gw, key, int(past.timestamp()), signer.sign(key, past)).status_code == 403


def test_readyz_is_200_when_kafka_and_the_database_answer(gw: RunningGateway) -> None:
    deadline = time.monotonic() + 20  # the broker watch adopts the broker's log first
    while (response := gw.client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready"}
