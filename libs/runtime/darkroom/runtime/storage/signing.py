"""HMAC-signed, expiring download URLs for the local object store (served by the gateway)."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta


class UrlSigner:
    """Signs and verifies (key, expiry) pairs with HMAC-SHA256."""

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("the URL signing secret must not be empty")
        self._secret = secret

    def sign(self, key: str, expires_at: datetime) -> str:
        """Return the signature of `key` valid until `expires_at` (whole seconds, tz-aware)."""
        if expires_at.tzinfo is None:
            raise ValueError("expires_at must be timezone-aware")
        return self._signature(key, int(expires_at.timestamp()))

    def verify(self, key: str, expires: int, sig: str, now: datetime | None = None) -> bool:
        """Tell whether `sig` signs (`key`, `expires`) and `expires` (unix seconds) is ahead."""
        now = now or datetime.now(UTC)
        if now.timestamp() >= expires:
            return False
        expected = self._signature(key, expires).encode("ascii")
        # `sig` comes from a URL: encode leniently so odd input is a mismatch, not an exception.
        return hmac.compare_digest(expected, sig.encode("utf-8", "replace"))

    def _signature(self, key: str, expires: int) -> str:
        # The newline cannot occur in an integer, so (key, expires) pairs cannot collide.
        message = f"{expires}\n{key}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def expires_after(ttl: timedelta, now: datetime | None = None) -> datetime:
    """Return `now + ttl` in UTC, truncated to whole seconds as URLs carry them."""
    if ttl <= timedelta(0):
        raise ValueError(f"ttl must be positive, got {ttl}")
    now = now or datetime.now(UTC)
    return datetime.fromtimestamp(int((now + ttl).timestamp()), tz=UTC)
