"""Bearer tokens: what a valid token says, and every way a token is refused."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from darkroom.runtime.auth import Principal, TokenError, TokenService
from darkroom.runtime.settings import DEV_JWT_SECRET
from tests.factories import random_user_id

SECRET = "unit-test-secret-0123456789abcdef0123"
ISSUER = "darkroom-unit"
HOUR = timedelta(hours=1)


@pytest.fixture
def service() -> TokenService:
    return TokenService(SECRET, ISSUER)


def signed(claims: dict[str, object], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def valid_claims(**overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"sub": random_user_id(), "iat": now, "exp": now + HOUR, "iss": ISSUER} | overrides


def test_an_issued_token_verifies_to_its_user(service: TokenService) -> None:
    user_id = random_user_id()
    before = datetime.now(UTC)

    token, expires = service.issue(user_id, HOUR)

    assert service.verify(token) == Principal(user_id=user_id, scope="api", is_admin=False)
    assert before + HOUR <= expires <= datetime.now(UTC) + HOUR


def test_a_stream_token_keeps_its_scope(service: TokenService) -> None:
    token, _ = service.issue("alice", HOUR, scope="stream")

    assert service.verify(token).scope == "stream"


def test_an_admin_token_says_so(service: TokenService) -> None:
    token, _ = service.issue("root", HOUR, admin=True)

    assert service.verify(token).is_admin is True


def test_a_token_without_a_scope_is_an_api_token(service: TokenService) -> None:
    assert service.verify(signed(valid_claims())).scope == "api"


def test_only_a_literal_true_admin_claim_makes_an_admin(service: TokenService) -> None:
    assert service.verify(signed(valid_claims(admin="true"))).is_admin is False
    assert service.verify(signed(valid_claims(admin=1))).is_admin is False


def test_an_expired_token_is_refused(service: TokenService) -> None:
    token, _ = service.issue("alice", timedelta(seconds=-1))

    with pytest.raises(TokenError, match="expired"):
        service.verify(token)


def test_a_token_signed_with_another_secret_is_refused(service: TokenService) -> None:
    token, _ = TokenService("another-secret-0123456789abcdef0123", ISSUER).issue("alice", HOUR)

    with pytest.raises(TokenError):
        service.verify(token)


def test_a_token_from_another_issuer_is_refused(service: TokenService) -> None:
    token, _ = TokenService(SECRET, "someone-else").issue("alice", HOUR)

    with pytest.raises(TokenError):
        service.verify(token)


@pytest.mark.parametrize(
    "claims",
    [
        {k: v for k, v in valid_claims().items() if k != "sub"},
        {k: v for k, v in valid_claims().items() if k != "exp"},
        {k: v for k, v in valid_claims().items() if k != "iss"},
        valid_claims(sub=""),
        valid_claims(scope="admin"),
    ],
    ids=["no-sub", "no-exp", "no-iss", "empty-sub", "unknown-scope"],
)
def test_a_token_missing_a_required_claim_is_refused(
    service: TokenService, claims: dict[str, object]
) -> None:
    with pytest.raises(TokenError):
        service.verify(signed(claims))


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_a_malformed_token_is_refused(service: TokenService, token: str) -> None:
    with pytest.raises(TokenError):
        service.verify(token)


def test_an_unsigned_token_is_refused(service: TokenService) -> None:
    token = jwt.encode(valid_claims(), None, algorithm="none")

    with pytest.raises(TokenError):
        service.verify(token)


def test_the_development_secret_signs_without_a_key_length_warning() -> None:
    service = TokenService(
        DEV_JWT_SECRET, "darkroom"
    )  # filterwarnings=error turns one into a failure
    token, _ = service.issue("alice", HOUR)

    assert service.verify(token).user_id == "alice"


def test_a_verified_token_is_served_from_cache_until_it_expires_then_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = TokenService(DEV_JWT_SECRET, "darkroom")
    token, expires = service.issue("alice", timedelta(minutes=5))
    assert service.verify(token).user_id == "alice"  # checked once, then cached

    def refuse(_: str) -> None:
        raise TokenError("checked again")

    monkeypatch.setattr(service, "_decode", refuse)
    assert service.verify(token).user_id == "alice"  # served from the cache
    monkeypatch.setattr("darkroom.runtime.auth.tokens.time.time", lambda: expires.timestamp() + 1)
    with pytest.raises(TokenError, match="checked again"):
        service.verify(token)  # expired in the cache: verified from scratch
