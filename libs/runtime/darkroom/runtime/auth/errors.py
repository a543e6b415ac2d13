"""Why a token is refused, in words a caller can act on (never a library's exception text)."""

from __future__ import annotations

import jwt


class TokenError(Exception):
    """The token is not valid; the message says what is wrong with it, in plain words.

    `error` is the RFC 6750 error code of the `WWW-Authenticate` challenge.
    """

    error: str | None = "invalid_token"


class MissingToken(TokenError):
    """No bearer token at all: RFC 6750 (section 3.1) wants a bare challenge, without an error code."""

    error = None


# Most specific first: InvalidSignatureError is a DecodeError, every other one an InvalidTokenError.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the token has expired"),
    (jwt.InvalidSignatureError, "the token's signature does not match: it was not signed here"),
    (jwt.InvalidIssuerError, "the token was issued by another issuer"),
    (jwt.InvalidAlgorithmError, "the token is not signed with HS256"),
    (jwt.ImmatureSignatureError, "the token is not valid yet"),
    (jwt.InvalidIssuedAtError, "the token's issue time (iat) is not a valid time"),
    (jwt.InvalidAudienceError, "the token is meant for another audience"),
    (jwt.exceptions.InvalidSubjectError, "the token's subject (sub) is not a user id"),
    (jwt.DecodeError, "the token is malformed: not a JWT"),
)


def reason_for(exc: jwt.PyJWTError) -> str:
    """What is wrong with a token PyJWT refused, in our words."""
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token has no {exc.claim} claim"
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "the token is not valid"
