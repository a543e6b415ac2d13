"""A verified token tells when it expires, so that what it opened (a stream) can end then."""

from datetime import UTC, datetime, timedelta

from darkroom.runtime.auth import Principal, TokenService

SECRET = "unit-test-secret-0123456789abcdef0123"


def test_a_verified_token_exposes_its_expiry_to_the_second() -> None:
    service = TokenService(SECRET, "darkroom-unit")
    token, expires = service.issue("alice", timedelta(seconds=300), scope="stream")

    principal = service.verify(token)
    again = service.verify(token)  # from the cache of verified tokens

    assert principal.expires_at == again.expires_at == expires.replace(microsecond=0)
    assert principal.expires_at is not None and principal.expires_at.tzinfo is not None
    assert principal.expires_at - datetime.now(UTC) <= timedelta(seconds=300)


def test_the_expiry_does_not_change_who_the_caller_is() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)

    assert Principal("alice", "api", expires_at=soon) == Principal("alice", "api")
