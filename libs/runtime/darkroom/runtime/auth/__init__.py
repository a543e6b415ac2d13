"""Bearer tokens (JWT, HS256): who the caller is, and what the token may do."""

from darkroom.runtime.auth.errors import MissingToken, TokenError
from darkroom.runtime.auth.tokens import DEFAULT_PRIORITY_CLAIM, Principal, TokenService

__all__ = ["DEFAULT_PRIORITY_CLAIM", "MissingToken", "Principal", "TokenError", "TokenService"]
