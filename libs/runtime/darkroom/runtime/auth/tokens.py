"""Issue and verify HS256 bearer tokens."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import jwt

from darkroom.contracts.envelope import utcnow

Scope = Literal["api", "stream"]


class TokenError(Exception):
    """The token is missing, malformed, expired or signed with another secret."""


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    scope: Scope
    is_admin: bool = False


class TokenService:
    """Signs and verifies tokens with one HS256 secret.

    Scope `api` tokens do everything; scope `stream` tokens only open event streams, so that a
    token leaked through a URL (EventSource cannot send headers) cannot submit or read jobs.
    """

    algorithm = "HS256"

    def __init__(self, secret: str, issuer: str, cache_size: int = 10_000) -> None:
        self._secret = secret
        self._issuer = issuer
        # Verified tokens by their exact text (signature included), with their expiry: a client
        # sends the same token on every request, and checking the HMAC and claims each time was
        # a quarter of the gateway's dependency work per request.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    def issue(
        self, user_id: str, ttl: timedelta, scope: Scope = "api", admin: bool = False
    ) -> tuple[str, datetime]:
        """A token for `user_id` that expires after `ttl`, and its expiry time."""
        now = utcnow()
        expires = now + ttl
        claims = {"sub": user_id, "iat": now, "exp": expires, "iss": self._issuer, "scope": scope}
        if admin:
            claims["admin"] = True
        return jwt.encode(claims, self._secret, algorithm=self.algorithm), expires

    def verify(self, token: str) -> Principal:
        """The caller a token names; raises TokenError when it is not valid."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires = self._decode(token)
        self._verified[token] = (principal, expires)
        if len(self._verified) > self._cache_size:
            self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self.algorithm],
                options={"require": ["sub", "exp"]},
                issuer=self._issuer,
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        sub, scope = claims.get("sub"), claims.get("scope", "api")
        if not isinstance(sub, str) or not sub or scope not in ("api", "stream"):
            raise TokenError("token has no valid subject or scope")
        principal = Principal(user_id=sub, scope=scope, is_admin=claims.get("admin") is True)
        return principal, float(claims["exp"])
