"""What the gateway refuses, and how it says so: unknown query parameters (422 naming them), bad
tokens (401 saying what is wrong, in words), and `priority: high` without a grant (403)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from darkroom.contracts.jobtypes import Priority
from darkroom.runtime.auth import TokenService
from darkroom.runtime.settings import DEV_JWT_SECRET
from tests.fixtures.tokens import auth, token_for
from tests.integration.helpers import RunningGateway, random_user, running_gateway

pytestmark = pytest.mark.integration

BODY = {"prompt": "a red fox in the snow", "width": 512, "height": 512, "seed": 7}
NO_GRANT: tuple[Priority, ...] = ()


@pytest.fixture
def gw(tmp_path: Path, kafka_bootstrap: str, topic_suffix: str) -> Iterator[RunningGateway]:
    with running_gateway(tmp_path, kafka_bootstrap, topic_suffix) as gateway:
        yield gateway


def test_a_misspelt_list_filter_is_a_422_naming_it_and_listing_the_known_ones(
    gw: RunningGateway,
) -> None:
    response = gw.client.get("/v1/jobs", params={"statsu": "queued"}, headers=auth("alice"))

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "statsu"]
    assert error["msg"] == (
        "'statsu' is not a known parameter of this route; "
        "known parameters: cursor, limit, status, type"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/jobs/{job}"),
        ("GET", "/v1/jobs/{job}/events"),
        ("DELETE", "/v1/jobs/{job}"),
        ("POST", "/v1/jobs/{job}/retry"),
        ("POST", "/v1/jobs/image"),
        ("POST", "/v1/stream-tokens"),
        ("POST", "/v1/uploads"),
        ("GET", "/v1/assets/jobs/{job}/0.png?expires=1&sig=x"),
        ("GET", "/healthz"),
    ],
)
def test_every_route_refuses_a_query_parameter_it_does_not_take(
    gw: RunningGateway, method: str, path: str
) -> None:
    url = path.format(job=uuid.uuid4())
    url += ("&" if "?" in url else "?") + "dry_run=1"
    body = BODY if path.endswith("/image") else None

    response = gw.client.request(method, url, json=body, headers=auth("alice"))

    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "dry_run"]]


@pytest.mark.parametrize(("name", "value"), [("status", "bogus"), ("type", "photo")])
def test_an_invalid_list_filter_value_is_a_422_naming_the_filter(
    gw: RunningGateway, name: str, value: str
) -> None:
    response = gw.client.get("/v1/jobs", params={name: value}, headers=auth("alice"))

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", name]]


def _signed_by(secret: str, issuer: str) -> str:
    return TokenService(secret, issuer).issue("alice", timedelta(hours=1))[0]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "the token is malformed: not a JWT"),
        (token_for("alice", ttl=timedelta(seconds=-30)), "the token has expired"),
        (
            _signed_by("another-secret-entirely-0123456789abcdef", "darkroom"),
            "the token's signature does not match: it was not signed here",
        ),
        (_signed_by(DEV_JWT_SECRET, "someone-else"), "the token was issued by another issuer"),
    ],
    ids=["malformed", "expired", "wrong-secret", "wrong-issuer"],
)
def test_an_invalid_token_is_a_401_that_says_what_is_wrong_in_words(
    gw: RunningGateway, token: str, reason: str
) -> None:
    response = gw.client.get("/v1/jobs", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json() == {"detail": f"not authenticated: {reason}"}
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{reason}"'
    )


def test_a_request_without_a_token_is_a_401_saying_so_with_a_bare_challenge(
    gw: RunningGateway,
) -> None:
    response = gw.client.get("/v1/jobs")

    assert response.status_code == 401
    assert "no bearer token" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == "Bearer"


SUBMITS: list[tuple[str, dict[str, Any]]] = [
    ("image", BODY),
    ("image", {**BODY, "then": [{"type": "upscale"}]}),
    ("batch", {"prompts": ["a fox", "an owl"], "width": 64, "height": 64}),
    ("upscale", {"image": {"url": "https://example.com/in.png"}}),
    ("video", {"prompt": "waves on a beach"}),
]
SUBMIT_IDS = ["image", "chain", "batch", "upscale", "video"]


@pytest.mark.parametrize(("kind", "body"), SUBMITS, ids=SUBMIT_IDS)
def test_high_priority_without_a_grant_is_a_403_naming_the_field_and_stores_nothing(
    gw: RunningGateway, kind: str, body: dict[str, Any]
) -> None:
    headers = auth(random_user(), priorities=NO_GRANT)
    response = gw.client.post(
        f"/v1/jobs/{kind}", json={**body, "priority": "high"}, headers=headers
    )

    assert response.status_code == 403, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "priority"]
    assert "not allowed" in error["msg"]
    assert gw.client.get("/v1/jobs", headers=headers).json()["items"] == []


@pytest.mark.parametrize(("kind", "body"), SUBMITS, ids=SUBMIT_IDS)
def test_high_priority_is_accepted_with_a_token_that_grants_it(
    gw: RunningGateway, kind: str, body: dict[str, Any]
) -> None:
    headers = auth(random_user(), priorities=[Priority.HIGH])
    response = gw.client.post(
        f"/v1/jobs/{kind}", json={**body, "priority": "high"}, headers=headers
    )

    assert response.status_code == 202, response.text


def test_normal_priority_needs_no_grant(gw: RunningGateway) -> None:
    headers = auth(random_user(), priorities=NO_GRANT)
    response = gw.client.post(
        "/v1/jobs/image", json={**BODY, "priority": "normal"}, headers=headers
    )

    assert response.status_code == 202, response.text


def test_the_grant_is_read_from_the_claim_priority_claim_names(
    tmp_path: Path, kafka_bootstrap: str, topic_suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRIORITY_CLAIM", "https://idp.example/priorities")
    issuer = TokenService(
        DEV_JWT_SECRET, "darkroom", priority_claim="https://idp.example/priorities"
    )
    theirs = issuer.issue(random_user(), timedelta(hours=1), priorities=[Priority.HIGH])[0]
    body = {**BODY, "priority": "high"}
    with running_gateway(tmp_path, kafka_bootstrap, topic_suffix) as gw:
        ours = gw.client.post("/v1/jobs/image", json=body, headers=auth(random_user()))
        granted = gw.client.post(
            "/v1/jobs/image", json=body, headers={"Authorization": f"Bearer {theirs}"}
        )

    assert (ours.status_code, granted.status_code) == (403, 202)


@pytest.mark.parametrize(
    ("extra", "loc", "words"),
    [
        ({"webhook_url": "ftp://hooks.example.com/x"}, "webhook_url", "only http and https"),
        ({"webhook_url": "https://u:p@hooks.example.com/"}, "webhook_url", "user name or password"),
        ({"webhook_url": "http://10.0.0.7/hook"}, "webhook_url", "private"),
        ({"webhook_url": "http://169.254.169.254/latest"}, "webhook_url", "169.254.169.254"),
        ({"webhook_url": "http://[::1]:8080/hook"}, "webhook_url", "loopback"),
        (
            {"webhook_url": "http://93.184.215.14/h", "webhook_events": ["job.done"]},
            "webhook_events",
            "job.completed",
        ),
    ],
)
def test_a_webhook_that_could_never_be_delivered_is_a_422_naming_the_field(
    gw: RunningGateway, extra: dict[str, Any], loc: str, words: str
) -> None:
    response = gw.client.post("/v1/jobs/image", json=BODY | extra, headers=auth(random_user()))

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"][:2] == ["body", loc] and words in error["msg"], error


def test_a_job_with_a_public_webhook_is_accepted_and_lists_no_delivery_yet(
    gw: RunningGateway,
) -> None:
    owner = random_user()
    body = BODY | {"webhook_url": "http://93.184.215.14/hook", "webhook_events": ["job.failed"]}
    accepted = gw.client.post("/v1/jobs/image", json=body, headers=auth(owner))
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()["job_id"]

    mine = gw.client.get(f"/v1/jobs/{job}/deliveries", headers=auth(owner))
    theirs = gw.client.get(f"/v1/jobs/{job}/deliveries", headers=auth(random_user()))
    assert (mine.status_code, mine.json()) == (200, {"job_id": job, "deliveries": []})
    assert theirs.status_code == 404
