"""`darkroom-token USER`: print a development bearer token; its last line is the token alone."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from darkroom.runtime.auth.tokens import TokenService
from darkroom.runtime.settings import AuthSettings, BaseServiceSettings


class TokenSettings(BaseServiceSettings, AuthSettings):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token for a user.")
    parser.add_argument("user", help="user id (the token's sub)")
    parser.add_argument("--hours", type=float, default=24.0, help="lifetime in hours (default 24)")
    parser.add_argument("--admin", action="store_true", help="an admin token")
    args = parser.parse_args(argv)
    settings = TokenSettings()
    service = TokenService(settings.jwt_secret.get_secret_value(), settings.jwt_issuer)
    token, expires = service.issue(args.user, timedelta(hours=args.hours), admin=args.admin)
    sys.stderr.write(f"# token for {args.user}, expires {expires.isoformat()}\n")
    sys.stdout.write(token + "\n")
