"""`darkroom-token USER`: print a development bearer token; its last line is the token alone."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from pydantic import Field

from darkroom.contracts.jobtypes import Priority
from darkroom.runtime.auth.tokens import DEFAULT_PRIORITY_CLAIM, TokenService
from darkroom.runtime.settings import AuthSettings, BaseServiceSettings


class TokenSettings(BaseServiceSettings, AuthSettings):
    priority_claim: str = Field(
        DEFAULT_PRIORITY_CLAIM, description="Claim that lists the priorities a token grants."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token for a user.")
    parser.add_argument("user", help="user id (the token's sub)")
    parser.add_argument("--hours", type=float, default=24.0, help="lifetime in hours (default 24)")
    parser.add_argument("--admin", action="store_true", help="an admin token")
    parser.add_argument(
        "--priority",
        action="append",
        default=[],
        choices=[p.value for p in Priority],
        help="grant this priority (repeatable); `--priority high` may submit priority high",
    )
    args = parser.parse_args(argv)
    settings = TokenSettings()
    service = TokenService.from_settings(settings)
    token, expires = service.issue(
        args.user, timedelta(hours=args.hours), admin=args.admin, priorities=args.priority
    )
    granted = f", may use priority {', '.join(args.priority)}" if args.priority else ""
    sys.stderr.write(f"# token for {args.user}{granted}, expires {expires.isoformat()}\n")
    sys.stdout.write(token + "\n")
