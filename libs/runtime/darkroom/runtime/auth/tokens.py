"""Issue and verify HS256 bearer tokens."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import jwt
from pydantic import SecretStr

from darkroom.contracts.envelope import utcnow
from darkroom.contracts.jobtypes import Priority
from darkroom.runtime.auth.errors import TokenError, reason_for

Scope = Literal["api", "stream"]
DEFAULT_PRIORITY_CLAIM = "darkroom:priorities"
_PRIORITY_NAMES = frozenset(p.value for p in Priority)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: str
    scope: Scope
    is_admin: bool = False
    priorities: frozenset[Priority] = frozenset()
    """Priorities the token grants beyond everyone's (the gateway decides which need a grant)."""
    expires_at: datetime | None = field(default=None, compare=False)
    """When the token expires (its `exp`): a stream opened with it ends then. None: never."""


class TokenConfig(Protocol):
    """What a TokenService is built from: the auth settings and the claim of priority grants."""

    @property
    def jwt_secret(self) -> SecretStr: ...
    @property
    def jwt_issuer(self) -> str: ...
    @property
    def priority_claim(self) -> str: ...


class TokenService:
    """Signs and verifies tokens with one HS256 secret.

    Scope `api` tokens do everything; scope `stream` tokens only open event streams, so that a
    token leaked through a URL (EventSource cannot send headers) cannot submit or read jobs.
    The claim named `priority_claim` lists the priorities the caller may ask for, e.g. `["high"]`.
    """

    algorithm = "HS256"

    def __init__(
        self,
        secret: str,
        issuer: str,
        cache_size: int = 10_000,
        priority_claim: str = DEFAULT_PRIORITY_CLAIM,
    ) -> None:
        self._secret = secret
        self._issuer = issuer
        self._priority_claim = priority_claim
        # Verified tokens by their exact text (signature included), with their expiry: a client
        # sends the same token on every request, and checking the HMAC and claims each time was
        # a quarter of the gateway's dependency work per request.
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    @classmethod
    def from_settings(cls, settings: TokenConfig) -> TokenService:
        """The service a process's settings describe."""
        secret = settings.jwt_secret.get_secret_value()
        return cls(secret, settings.jwt_issuer, priority_claim=settings.priority_claim)

    def issue(
        self,
        user_id: str,
        ttl: timedelta,
        scope: Scope = "api",
        admin: bool = False,
        priorities: Iterable[Priority] = (),
    ) -> tuple[str, datetime]:
        """A token for `user_id` that expires after `ttl`, and its expiry time."""
        now = utcnow()
        expires = now + ttl
        claims: dict[str, Any] = {
            "sub": user_id,
            "iat": now,
            "exp": expires,
            "iss": self._issuer,
            "scope": scope,
        }
        if admin:
            claims["admin"] = True
        if granted := sorted({Priority(p).value for p in priorities}):
            claims[self._priority_claim] = granted
        return jwt.encode(claims, self._secret, algorithm=self.algorithm), expires

    def verify(self, token: str) -> Principal:
        """The caller a token names; raises TokenError, saying what is wrong, when it is not valid."""
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
            raise TokenError(reason_for(exc)) from exc
        sub, scope = claims.get("sub"), claims.get("scope", "api")
        if not isinstance(sub, str) or not sub:
            raise TokenError("the token names no user: its sub claim is empty")
        if scope not in ("api", "stream"):
            raise TokenError("the token's scope is neither api nor stream")
        principal = Principal(
            user_id=sub,
            scope=scope,
            is_admin=claims.get("admin") is True,
            priorities=_granted(claims.get(self._priority_claim)),
            expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
        )
        return principal, float(claims["exp"])


def _granted(claim: object) -> frozenset[Priority]:
    """The priorities a claim lists: a list of names or a space-separated string; others ignored."""
    names = claim.split() if isinstance(claim, str) else claim
    if not isinstance(names, list):
        return frozenset()
    return frozenset(Priority(n) for n in names if isinstance(n, str) and n in _PRIORITY_NAMES)
