"""Ctrl-C on `make run`: every process stops by itself, the broker last; a worker in the middle of
a job gets its drain time; an open event stream ends cleanly; nothing is logged at ERROR.

The stack is started by `make run` itself (honcho, the Procfile, the Makefile's options) on ports
of its own, and stopped as a terminal stops it: SIGINT to make's process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.e2e.client import follow
from tests.fixtures.ports import free_port
from tests.fixtures.procs import Stack
from tests.fixtures.tokens import auth

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("make") is None, reason="needs make"),
]

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
WORKERS = ("image-worker", "upscale-worker", "video-worker")
PROCESSES = ("broker", "gateway", "relay", "projector", "webhooks", "notifier", *WORKERS)
READY = {"gateway": "/readyz", "notifier": "/readyz", "projector": "/healthz"} | {
    name: "/readyz" for name in ("webhooks", *WORKERS)
}
STARTED = re.compile(r"\| ([\w-]+)\.1 started \(pid=(\d+)\)")
STOPPED = re.compile(r"\| ([\w-]+)\.1 stopped \(rc=(-?\d+)\)")
HANDED_BACK = "left uncommitted after the drain timeout"
CLIENT_STOP_S = 15  # a process with nothing to drain stops within this, on a busy machine too
TIE_S = 0.5  # processes reported stopped this close together stopped together
STOP_MARGIN_S = 30  # past the drain: a worker's last commits and leaving its groups


@dataclass
class MakeRun:
    """`make run` in a process group of its own, its output read line by line as it comes."""

    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    lines: list[tuple[float, str]] = field(default_factory=list)
    reader: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for raw in self.proc.stdout:
                self.lines.append((time.monotonic(), raw.decode(errors="replace").rstrip()))

    def output(self, since: float = 0.0) -> list[str]:
        return [line for at, line in list(self.lines) if at >= since]

    def reported(self, pattern: re.Pattern[str]) -> dict[str, tuple[float, int]]:
        """honcho's reports (started, stopped) by process, in order: when, and the number."""
        found = ((at, pattern.search(line)) for at, line in list(self.lines))
        return {m[1]: (at, int(m[2])) for at, m in found if m}

    async def wait_for_line(self, text: str, timeout_s: float) -> None:
        async with asyncio.timeout(timeout_s):
            while not any(text in line for line in self.output()):
                assert self.proc.poll() is None, "\n".join(self.output()[-60:])
                await asyncio.sleep(0.1)

    async def interrupt(self, timeout_s: float) -> float:
        """Ctrl-C: SIGINT to make's process group; returns when it was sent, once make exited."""
        sent = time.monotonic()
        os.killpg(self.proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.proc.wait, timeout_s)
        return sent

    def kill(self) -> None:
        """Whatever still runs: make and honcho, and each service (in a session of its own)."""
        groups = [self.proc.pid, *(pid for _, pid in self.reported(STARTED).values())]
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, signal.SIGKILL)
        self.proc.wait()
        self.reader.join(10)  # the output ends once every service is gone


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Callable[..., MakeRun]]:
    started: list[MakeRun] = []

    def start(**env: str) -> MakeRun:
        broker_port = free_port()
        stack = Stack.configure(tmp_path, f"127.0.0.1:{broker_port}", suffix="", **env)
        proc = subprocess.Popen(
            ["make", "-o", str(VENV / ".installed"), "run", f"VENV={VENV}"],
            cwd=ROOT,
            env={**stack.env, "EMBEDDED_BROKER_PORT": str(broker_port)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives a job
        )
        run = MakeRun(proc, stack.ports)
        started.append(run)
        return run

    yield start
    for run in started:
        run.kill()


@pytest.mark.parametrize(
    ("drain_s", "outcomes"),
    [(30, {"completed", "handed back"}), (2, {"handed back"})],
    ids=["drain-30s", "drain-2s"],
)
async def test_ctrl_c_on_make_run_stops_clients_then_the_broker_without_an_error(
    make_run: Callable[..., MakeRun], drain_s: int, outcomes: set[str]
) -> None:
    run = make_run(WORKER_DRAIN_TIMEOUT_S=str(drain_s))
    owner = f"u-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as http:
        await wait_ready(http, run)
        job = await submit_video(http, run, owner)
        events = f"http://127.0.0.1:{run.ports['notifier']}/v1/jobs/{job}/events"
        stream = asyncio.create_task(follow(http, events, auth(owner), timeout_s=600))
        await run.wait_for_line(f"job {job} attempt 1 started", 60)
        sent = await run.interrupt(drain_s + 3 * STOP_MARGIN_S)
        (ended,) = await asyncio.wait_for(asyncio.gather(stream, return_exceptions=True), 10)

    assert_stopped_cleanly(run, sent, drain_s)
    assert outcome_of(run.output(sent), job) in outcomes
    assert not isinstance(ended, BaseException), f"the event stream broke off: {ended!r}"


async def wait_ready(http: httpx.AsyncClient, run: MakeRun, timeout_s: float = 180) -> None:
    async with asyncio.timeout(timeout_s):
        for name, path in READY.items():
            while True:
                assert run.proc.poll() is None, "\n".join(run.output()[-60:])
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(f"http://127.0.0.1:{run.ports[name]}{path}")).is_success:
                        break
                await asyncio.sleep(0.2)


async def submit_video(http: httpx.AsyncClient, run: MakeRun, owner: str) -> str:
    """A video job long enough to be mid-way when Ctrl-C comes (300 frames of 720p)."""
    response = await http.post(
        f"http://127.0.0.1:{run.ports['gateway']}/v1/jobs/video",
        json={"prompt": "a slow pan over dunes", "duration_s": 10, "fps": 30, "resolution": "720p"},
        headers=auth(owner),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


def assert_stopped_cleanly(run: MakeRun, sent: float, drain_s: float) -> None:
    output = "\n".join(run.output())
    stopped = run.reported(STOPPED)
    assert run.proc.poll() is not None, f"make still runs:\n{output}"
    assert set(stopped) == set(PROCESSES), output
    assert {name: rc for name, (_, rc) in stopped.items() if rc != 0} == {}, output
    # The broker stops once every client's connections are closed; a client exiting a moment
    # after closing them may be reported after it, which is no fault: ties within TIE_S pass.
    broker_at = stopped["broker"][0]
    early = {name: round(at - broker_at, 2) for name, (at, _) in stopped.items()}
    early = {name: s for name, s in early.items() if s > TIE_S}
    assert early == {}, f"the broker stopped before a client (s): {early}\n{output}"
    assert "sending SIGKILL" not in output
    took = {name: round(at - sent, 1) for name, (at, _) in stopped.items()}
    late = {name: s for name, s in took.items() if s > deadline(name, drain_s)}
    assert late == {}, f"stopped after (s): {took}\n{output}"
    errors = [line for line in run.output() if "ERROR" in line or "Traceback" in line]
    assert errors == [], "\n".join(errors)


def deadline(name: str, drain_s: float) -> float:
    """How long after Ctrl-C a process may take to stop."""
    if name in WORKERS:
        return drain_s + STOP_MARGIN_S
    if name == "broker":
        return drain_s + 2 * STOP_MARGIN_S
    return CLIENT_STOP_S


def outcome_of(lines: list[str], job: str) -> str:
    """What became of the job the video worker was running at Ctrl-C."""
    video = [line for line in lines if line.split("|")[0].strip().endswith("video-worker.1")]
    if any(f"job {job} completed" in line for line in video):
        return "completed"
    if any(HANDED_BACK in line for line in video):
        return "handed back"
    return "killed or lost:\n" + "\n".join(video)
