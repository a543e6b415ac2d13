"""Stream tokens: short-lived, stream-only tokens for browsers' EventSource."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from darkroom.contracts.api import StreamToken
from darkroom.gateway.deps import CurrentUser, RejectUnknownQuery, ServicesDep

router = APIRouter(prefix="/v1", tags=["auth"], dependencies=[RejectUnknownQuery])


@router.post(
    "/stream-tokens", response_model=StreamToken, status_code=201, summary="A token for EventSource"
)
async def create_stream_token(user: CurrentUser, services: ServicesDep) -> StreamToken:
    """A token that opens the caller's event streams only, and expires in minutes.

    EventSource cannot send an Authorization header, so the token travels in the URL
    (`?access_token=`), where proxies and browser history may keep it: this one cannot submit,
    read or cancel jobs, and soon stops working.
    """
    ttl = timedelta(seconds=services.settings.stream_token_ttl_s)
    token, expires = services.tokens.issue(user.user_id, ttl, scope="stream", admin=user.is_admin)
    return StreamToken(token=token, expires_at=expires)
