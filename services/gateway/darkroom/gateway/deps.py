"""FastAPI dependencies: the caller, the store, the object store, the settings, strict queries.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop per
dependency per request (measured: the largest avoidable cost of a submit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from darkroom.gateway.errors import WrongTokenScope
from darkroom.gateway.settings import GatewaySettings
from darkroom.runtime.auth import MissingToken, Principal, TokenService
from darkroom.runtime.broker_watch import BrokerWatch
from darkroom.runtime.db import Database, JobStore
from darkroom.runtime.db.group_commit import GroupCommittingJobs
from darkroom.runtime.providers import Registry
from darkroom.runtime.serving import reject_unknown_query
from darkroom.runtime.storage import ObjectStore, UrlSigner

bearer = HTTPBearer(
    auto_error=False, description="A JWT signed with JWT_SECRET; `sub` is the user id."
)


@dataclass
class Services:
    """Everything the routes use, built once by the app's lifespan."""

    settings: GatewaySettings
    db: Database
    store: JobStore
    writer: GroupCommittingJobs
    objects: ObjectStore
    tokens: TokenService
    signer: UrlSigner
    kafka: BrokerWatch  # the broker answers, with the log the stack runs on (readiness)
    providers: Registry  # the installed provider plug-ins: GET /v1/models, submissions' choices


async def get_services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


ServicesDep = Annotated[Services, Depends(get_services)]


async def current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of an API route: a valid `api` bearer token is required."""
    if credentials is None:
        raise MissingToken("no bearer token: send the header Authorization: Bearer <token>")
    principal = services.tokens.verify(credentials.credentials)
    if principal.scope != "api":
        raise WrongTokenScope("this token only opens event streams")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]


# Every router's dependency: a query parameter its route does not declare is a 422, not ignored.
RejectUnknownQuery = Depends(reject_unknown_query)
