"""A refused token says, in words, what is wrong with it; a token may grant priorities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from darkroom.contracts.jobtypes import Priority
from darkroom.runtime.auth import TokenError, TokenService

SECRET = "unit-test-secret-0123456789abcdef0123"
ISSUER = "darkroom-unit"
HOUR = timedelta(hours=1)
# What PyJWT says about the same tokens: none of it may reach a caller.
LIBRARY_WORDS = ("Error", "Signature has expired", "Invalid issuer", "Not enough segments", '"')


def signed(secret: str = SECRET, **overrides: object) -> str:
    now = datetime.now(UTC)
    claims = {"sub": "alice", "iat": now, "exp": now + HOUR, "iss": ISSUER} | overrides
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "the token is malformed: not a JWT"),
        ("", "the token is malformed: not a JWT"),
        (signed(exp=datetime.now(UTC) - HOUR), "the token has expired"),
        (signed("another-secret-0123456789abcdef0123"), "signature does not match"),
        (signed(iss="someone-else"), "the token was issued by another issuer"),
        (signed(sub=None), "the token has no sub claim"),
        (signed(exp=None), "the token has no exp claim"),
        (signed(iss=None), "the token has no iss claim"),
        (signed(sub=""), "the token names no user"),
        (signed(scope="admin"), "scope is neither api nor stream"),
        (jwt.encode({"sub": "alice"}, None, algorithm="none"), "not signed with HS256"),
    ],
    ids=[
        "malformed",
        "empty",
        "expired",
        "wrong-secret",
        "wrong-issuer",
        "no-sub",
        "no-exp",
        "no-iss",
        "empty-sub",
        "unknown-scope",
        "unsigned",
    ],
)
def test_a_refused_token_says_in_words_what_is_wrong_and_never_quotes_the_library(
    token: str, reason: str
) -> None:
    with pytest.raises(TokenError) as refused:
        TokenService(SECRET, ISSUER).verify(token)

    message = str(refused.value)
    assert reason in message
    assert not any(words in message for words in LIBRARY_WORDS), message
    assert refused.value.error == "invalid_token"


def test_a_token_grants_the_priorities_it_was_issued_with() -> None:
    service = TokenService(SECRET, ISSUER)
    granted, _ = service.issue("alice", HOUR, priorities=[Priority.HIGH])
    plain, _ = service.issue("bob", HOUR)

    assert service.verify(granted).priorities == {Priority.HIGH}
    assert service.verify(plain).priorities == frozenset()


def test_priorities_are_read_from_the_configured_claim_only() -> None:
    token, _ = TokenService(SECRET, ISSUER, priority_claim="https://idp/prio").issue(
        "alice", HOUR, priorities=[Priority.HIGH]
    )

    assert jwt.decode(token, options={"verify_signature": False})["https://idp/prio"] == ["high"]
    assert TokenService(SECRET, ISSUER, priority_claim="https://idp/prio").verify(token).priorities
    assert TokenService(SECRET, ISSUER).verify(token).priorities == frozenset()


@pytest.mark.parametrize(
    ("claim", "granted"),
    [
        (["high"], {Priority.HIGH}),
        ("high low", {Priority.HIGH, Priority.LOW}),
        (["urgent", "high", 3, {"x": 1}], {Priority.HIGH}),
        ("HIGH", set()),
        (True, set()),
        ({"high": True}, set()),
    ],
    ids=["list", "space-separated", "unknown-names-ignored", "case-matters", "bool", "object"],
)
def test_a_priorities_claim_grants_only_the_priority_names_it_lists(
    claim: object, granted: set[Priority]
) -> None:
    token = signed(**{"darkroom:priorities": claim})

    assert TokenService(SECRET, ISSUER).verify(token).priorities == granted
