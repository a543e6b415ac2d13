"""Bearer tokens (JWT, HS256): who the caller is, and what the token may do."""

from darkroom.runtime.auth.tokens import Principal, TokenError, TokenService

__all__ = ["Principal", "TokenError", "TokenService"]
