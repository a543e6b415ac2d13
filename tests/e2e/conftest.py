"""A whole Darkroom stack per test module: every service its own process, on a real broker."""

import signal
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
