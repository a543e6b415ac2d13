"""`python -m darkroom.runtime.healthcheck`: the container image's HEALTHCHECK, for whichever
Darkroom process the container runs.

It reads the process from PID 1's command line, and asks its `/healthz` on its port (its
`<PROCESS>_PORT`, or the default); a process without an HTTP port (the relay) is healthy while it
runs. Exit 0 healthy, 1 not (what Docker's HEALTHCHECK expects).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

# The process, its port setting and that setting's default (the settings classes' defaults).
HTTP_PORTS = {
    "darkroom-gateway": ("GATEWAY_PORT", 8000),
    "darkroom-notifier": ("NOTIFIER_PORT", 8001),
    "darkroom-projector": ("PROJECTOR_PORT", 8011),
    "darkroom-image-worker": ("IMAGE_WORKER_PORT", 8010),
    "darkroom-upscale-worker": ("UPSCALE_WORKER_PORT", 8012),
    "darkroom-video-worker": ("VIDEO_WORKER_PORT", 8013),
    "darkroom-webhooks": ("WEBHOOKS_PORT", 8014),
}
TIMEOUT_S = 3.0


def process_of(cmdline: bytes) -> str:
    """The Darkroom command among a command line's words (`python /…/darkroom-relay` too)."""
    for word in cmdline.split(b"\0"):
        name = Path(word.decode(errors="replace")).name
        if name.startswith("darkroom-"):
            return name
    return ""


def health_url(process: str, env: Mapping[str, str]) -> str | None:
    """Where the process answers /healthz; None for a process without HTTP."""
    if process not in HTTP_PORTS:
        return None
    setting, default = HTTP_PORTS[process]
    return f"http://127.0.0.1:{env.get(setting) or default}/healthz"


def healthy(url: str | None) -> bool:
    if url is None:
        return True  # it runs: this check runs inside its container
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return 200 <= int(response.status) < 300
    except urllib.error.HTTPError as answer:  # a 4xx/5xx answer
        answer.close()
        return False
    except OSError:
        return False


def main() -> None:
    process = process_of(Path("/proc/1/cmdline").read_bytes())
    sys.exit(0 if healthy(health_url(process, os.environ)) else 1)


if __name__ == "__main__":
    main()
