"""Darkroom stacks for end-to-end tests: every service its own process, on a real broker.

`stack` is shared by a test module; `make_stack(**env)` starts one per call, with its own
settings, for tests that inject faults."""

import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.procs import SERVICES, Stack


@pytest.fixture(scope="module")
def stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Relay, projector, image worker, notifier and gateway on a fresh SQLite database and topics."""
    workdir: Path = tmp_path_factory.mktemp("stack")
    stack = Stack.configure(workdir, kafka_bootstrap, suffix=workdir.name.replace("_", "-"))
    stack.migrate()
    stack.start(*SERVICES)
    yield stack
    codes = stack.stop_all()
    # uvicorn re-raises SIGTERM after its graceful shutdown; a hung service would show -9.
    assert set(codes.values()) <= {0, -signal.SIGTERM}, f"unclean exits {codes}\n{stack.logs()}"


@pytest.fixture
def make_stack(kafka_bootstrap: str, tmp_path: Path) -> Iterator[type[Stack]]:
    started: list[Stack] = []

    def start(**env: str) -> Stack:
        suffix = f"dg-{uuid.uuid4().hex[:8]}"
        stack = Stack.configure(tmp_path / suffix, kafka_bootstrap, suffix=suffix, **env)
        stack.workdir.mkdir(parents=True)
        stack.migrate()
        stack.start(*SERVICES)
        started.append(stack)
        return stack

    yield start  # type: ignore[misc]
    for stack in started:
        stack.stop_all()
