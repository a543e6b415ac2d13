"""What `make run` prints before the stack starts: where things are and a token to try them."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from pydantic import Field

from darkroom.runtime.auth import TokenService
from darkroom.runtime.settings import AuthSettings, BaseServiceSettings


class BannerSettings(BaseServiceSettings, AuthSettings):
    public_base_url: str = Field("http://127.0.0.1:8000")
    notifier_public_url: str = Field("http://127.0.0.1:8001")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--user", default="alice")
    args = parser.parse_args(argv)
    s = BannerSettings()
    token, _ = TokenService(s.jwt_secret.get_secret_value(), s.jwt_issuer).issue(
        args.user, timedelta(days=1)
    )
    sys.stdout.write(
        f"""
Darkroom is starting (Ctrl-C stops everything).
  API        {s.public_base_url}   (docs: {s.public_base_url}/docs)
  Events     {s.notifier_public_url}/v1/jobs/<job_id>/events   (SSE)
  Dev token for {args.user} (24 h):
    export TOKEN={token}
  Try:
    curl -s -X POST {s.public_base_url}/v1/jobs/image -H "Authorization: Bearer $TOKEN" \\
         -H 'Content-Type: application/json' -d '{{"prompt": "a lighthouse at dusk"}}'

"""
    )


if __name__ == "__main__":
    main()
