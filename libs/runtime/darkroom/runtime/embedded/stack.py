"""The Darkroom services as separate processes, for tests and benchmarks.

Each service is started as `make run` starts it (its `darkroom-<name>` console script), with an
explicit environment, on its own ports, topics and database; readiness is polled over HTTP, with
deadlines that stretch with the machine's load.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BIN = Path(sys.executable).parent
SERVICES = ("relay", "projector", "image-worker", "notifier", "gateway")
MEDIA_WORKERS = ("upscale-worker", "video-worker")  # started by the tests of those job types
OPTIONAL = (*MEDIA_WORKERS, "webhooks")  # started by the tests and benchmarks that use them
READY_PATHS = {
    "gateway": "/readyz",
    "notifier": "/readyz",
    "image-worker": "/healthz",
    "upscale-worker": "/healthz",
    "video-worker": "/healthz",
    "projector": "/healthz",
    "webhooks": "/readyz",
}
# Set by the stack itself or derived by the services from the ports: never inherited.
NOT_INHERITED = ("DATABASE_", "S3_", "STORAGE_", "PUBLIC_BASE_URL", "NOTIFIER_PUBLIC_URL")
MAX_STRETCH = 5.0  # the longest a deadline grows on a busy machine: 60 s -> 300 s


def patience(base_s: float) -> float:
    """`base_s` stretched by the load per core: at load 20 on two cores each process gets about
    a tenth of a core, and starts or stops ten times slower than on an idle machine."""
    try:
        load = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:  # no load average on this system
        load = 1.0
    return base_s * min(max(load, 1.0), MAX_STRETCH)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcess:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    service: str  # which console script runs it (a replica has a name of its own)

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20) -> int:
        """Send `sig` and wait for the exit code (SIGKILL if it does not stop within `timeout_s`
        stretched by the load: a busy machine drains and closes slowly, not wrongly)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_stopped(timeout_s)

    def wait_stopped(self, timeout_s: float = 20) -> int:
        """Its exit code, once it has stopped (SIGKILL after `timeout_s` stretched by the load)."""
        try:
            self.proc.wait(patience(timeout_s))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Stack:
    """The services of one test stack, on their own ports, topics and database."""

    workdir: Path
    env: dict[str, str]
    ports: dict[str, int]
    running: dict[str, ServiceProcess] = field(default_factory=dict)

    @classmethod
    def configure(
        cls, workdir: Path, kafka: str, suffix: str, database_url: str | None = None, **extra: str
    ) -> Stack:
        ports = {name: free_port() for name in ("gateway", "notifier", "projector")}
        ports.update({name: free_port() for name in ("image-worker", *OPTIONAL)})
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)},
            "DARKROOM_ENV": "test",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "KAFKA_BOOTSTRAP_SERVERS": kafka,
            "KAFKA_TOPIC_SUFFIX": suffix,
            "DATABASE_URL": database_url or f"sqlite+aiosqlite:///{workdir / 'darkroom.db'}",
            "STORAGE_BACKEND": "local",
            "STORAGE_LOCAL_ROOT": str(workdir / "assets"),
            "GATEWAY_PORT": str(ports["gateway"]),
            "NOTIFIER_PORT": str(ports["notifier"]),
            "IMAGE_WORKER_PORT": str(ports["image-worker"]),
            "UPSCALE_WORKER_PORT": str(ports["upscale-worker"]),
            "VIDEO_WORKER_PORT": str(ports["video-worker"]),
            "PROJECTOR_PORT": str(ports["projector"]),
            "WEBHOOKS_PORT": str(ports["webhooks"]),
            "LOCAL_PROVIDER_STEP_DELAY_S": "0",
            **extra,
        }
        return cls(workdir=workdir, env=env, ports=ports)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def notifier_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['notifier']}"

    def migrate(self) -> None:
        subprocess.run(
            [str(BIN / "darkroom-migrate")], env=self.env, check=True, capture_output=True
        )

    def start(self, *names: str, wait: bool = True) -> None:
        for name in names:
            self._launch(name, name, self.env)
        if wait:
            self._wait_all(names)

    def start_replica(self, name: str, service: str, wait: bool = True) -> None:
        """Another process of `service` under the name `name`, with its own port and instance id
        (for example a second image worker in the same consumer group)."""
        self.ports[name] = free_port()
        env = {
            **self.env,
            f"{service.upper().replace('-', '_')}_PORT": str(self.ports[name]),
            "INSTANCE_ID": name,
        }
        self._launch(name, service, env)
        if wait:
            self._wait_all([name])

    def _launch(self, name: str, service: str, env: dict[str, str]) -> None:
        log_path = self.workdir / f"{name}.{len(list(self.workdir.glob(f'{name}.*.log')))}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(BIN / f"darkroom-{service}")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self.running[name] = ServiceProcess(name, proc, log_path, service)

    def _wait_all(self, names: Sequence[str]) -> None:
        try:
            for name in names:
                self.wait_ready(name)
        except BaseException:
            self.stop_all()  # a service that failed to start must not leave the others running
            raise

    def wait_ready(self, name: str, timeout_s: float = 60) -> None:
        """Poll the service's readiness URL until it answers 2xx (the relay has none: started is
        ready). The deadline is `timeout_s` stretched by the load, measured again on each poll;
        a process that exits fails at once."""
        kind = self.running[name].service
        if kind not in READY_PATHS:
            return
        url = f"http://127.0.0.1:{self.ports[name]}{READY_PATHS[kind]}"
        started = time.monotonic()
        while time.monotonic() < started + patience(timeout_s):
            service = self.running[name]
            if service.proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {service.proc.returncode}:\n{service.log()[-4000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if 200 <= response.status < 300:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise TimeoutError(
            f"{name} not ready after {time.monotonic() - started:.0f} s:\n{self.running[name].log()[-4000:]}"
        )

    def stop(self, name: str, sig: int = signal.SIGTERM) -> int:
        return self.running.pop(name).stop(sig)

    def stop_all(self) -> dict[str, int]:
        """SIGTERM to every process at once (as `docker compose down` does), then their exit
        codes: they stop side by side, not one after the other."""
        for process in self.running.values():
            if process.proc.poll() is None:
                process.proc.terminate()
        stopped = {name: process.wait_stopped() for name, process in self.running.items()}
        self.running.clear()
        return stopped

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.workdir.glob("*.log"))
        )
