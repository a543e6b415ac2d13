"""The HTTP edge every API shares: unknown query parameters are refused, 401s say why in words."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Query
from pydantic import BaseModel

from darkroom.runtime.auth import MissingToken, TokenError
from darkroom.runtime.serving import reject_unknown_query, unauthorized


class Window(BaseModel):
    since: int | None = None
    until: int | None = None


async def token_param(access_token: Annotated[str | None, Query()] = None) -> str | None:
    return access_token


async def tenant_param(tenant: Annotated[str | None, Query()] = None) -> str | None:
    return tenant


def app() -> FastAPI:
    router = APIRouter(dependencies=[Depends(reject_unknown_query)])

    @router.get("/items")
    async def items(
        _token: Annotated[str | None, Depends(token_param)],
        limit: int = 20,
        status: Annotated[str | None, Query(alias="state")] = None,
    ) -> dict[str, object]:
        return {"limit": limit, "state": status}

    @router.get("/windows")
    async def windows(window: Annotated[Window, Query()]) -> Window:
        return window

    @router.delete("/items/{item_id}")
    async def delete_item(item_id: int) -> dict[str, int]:
        return {"deleted": item_id}

    @router.get("/private")
    async def private(reason: str, missing: bool = False) -> None:
        raise MissingToken(reason) if missing else TokenError(reason)

    application = FastAPI()
    application.include_router(router)
    application.include_router(router, prefix="/t", dependencies=[Depends(tenant_param)])
    application.add_exception_handler(TokenError, unauthorized)
    return application


async def get(path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge.test") as client:
        return await client.request(method, path)


async def test_an_unknown_query_parameter_is_a_422_naming_it_and_listing_the_known_ones() -> None:
    response = await get("/items?statsu=queued&limit=5")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "statsu"]
    assert error["type"] == "extra_forbidden"
    assert error["input"] == "queued"
    assert "not a known parameter" in error["msg"]
    assert "access_token, limit, state" in error["msg"]


async def test_every_unknown_query_parameter_is_named() -> None:
    response = await get("/items?a=1&b=2&limit=3")

    assert [e["loc"] for e in response.json()["detail"]] == [["query", "a"], ["query", "b"]]


@pytest.mark.parametrize(
    "path",
    [
        "/items",
        "/items?limit=5&state=queued",
        "/items?access_token=t",
        "/windows?since=1&until=2",
        "/t/items?tenant=acme&limit=5",
    ],
    ids=["none", "own", "a-dependency's", "a-query-model's", "an-include_router-dependency's"],
)
async def test_declared_query_parameters_are_accepted(path: str) -> None:
    assert (await get(path)).status_code == 200


async def test_a_route_without_query_parameters_refuses_any_and_says_it_takes_none() -> None:
    response = await get("/items/7?force=true", method="DELETE")

    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "force"]
    assert "takes none" in error["msg"]


async def test_a_missing_token_is_a_401_with_a_bare_bearer_challenge() -> None:
    response = await get("/private?reason=no+bearer+token&missing=true")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "not authenticated: no bearer token"}


async def test_an_invalid_token_is_a_401_whose_challenge_says_why_as_rfc_6750_asks() -> None:
    response = await get("/private?reason=the+token+has+expired")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="the token has expired"'
    )
    assert response.json() == {"detail": "not authenticated: the token has expired"}


async def test_an_error_description_drops_characters_rfc_6750_forbids() -> None:
    response = await get('/private?reason=say+"no"+\\+to+caf%C3%A9')

    challenge = response.headers["WWW-Authenticate"]
    assert challenge == 'Bearer error="invalid_token", error_description="say no  to caf"'
