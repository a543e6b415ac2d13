"""The stream routes' edge: a Last-Event-ID that is not a decimal id is a 422 naming the header."""

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from darkroom.notifier.hub import Hub
from darkroom.notifier.routes import Services, last_event_id, router
from darkroom.notifier.settings import NotifierSettings
from darkroom.runtime.auth import TokenService
from darkroom.runtime.settings import DEV_JWT_SECRET
from tests.fixtures.tokens import auth
from tests.unit.notifier.fakes import FakeHistory


def an_app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    settings = NotifierSettings(_env_file=None)  # type: ignore[call-arg]
    services: Any = Services(
        settings=settings,
        db=None,  # type: ignore[arg-type]
        store=None,  # type: ignore[arg-type]
        history=FakeHistory(),  # type: ignore[arg-type]
        hub=Hub(),
        tail=None,  # type: ignore[arg-type]
        tokens=TokenService(DEV_JWT_SECRET, "darkroom"),
    )
    app.state.services = services
    return app


@pytest.mark.parametrize("path", ["/v1/events", f"/v1/jobs/{uuid.uuid4()}/events"])
@pytest.mark.parametrize(
    "value",
    [
        "abc",
        "3f2b1c9e-0000-4000-8000-000000000000:7",
        "-1",
        "1e3",
        "+5",
        "\xb2".encode("latin-1"),
        "9" * 20,
    ],
)
async def test_a_last_event_id_that_is_not_a_decimal_id_is_a_422_naming_the_header(
    path: str, value: str | bytes
) -> None:
    transport = httpx.ASGITransport(app=an_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://notifier.test") as http:
        raw = value if isinstance(value, bytes) else value.encode()
        headers = [(k.encode(), v.encode()) for k, v in auth("u-1").items()]
        response = await http.get(path, headers=[*headers, (b"Last-Event-ID", raw)])

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["header", "Last-Event-ID"]
    assert "decimal" in error["msg"]


def test_a_new_eventsource_resumes_with_last_event_id_in_the_query_and_the_header_wins() -> None:
    assert last_event_id(header=None, query="7") == 7  # a page reconnecting with a fresh token
    assert last_event_id(header="9", query="7") == 9
    assert last_event_id(header=None, query=None) is None


def test_a_last_event_id_query_that_is_not_a_decimal_id_is_a_422_naming_the_parameter() -> None:
    with pytest.raises(RequestValidationError) as caught:
        last_event_id(header=None, query="abc")

    [error] = caught.value.errors()
    assert error["loc"] == ("query", "last_event_id")
