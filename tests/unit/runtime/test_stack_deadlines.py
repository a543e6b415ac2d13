"""The end-to-end stack's deadlines stretch with the machine's load (a busy machine is slow, not
broken), and its services derive their public URLs from the ports it gives them."""

import itertools
from pathlib import Path

import pytest

from darkroom.runtime.embedded import stack
from darkroom.runtime.embedded.stack import Stack, patience


@pytest.mark.parametrize(
    ("load", "cores", "stretched"),
    [(0.5, 2, 60), (3.0, 2, 90), (20.0, 2, 300), (200.0, 2, 300), (20.0, 16, 75)],
)
def test_a_deadline_stretches_with_the_load_per_core_up_to_five_times(
    monkeypatch: pytest.MonkeyPatch, load: float, cores: int, stretched: float
) -> None:
    monkeypatch.setattr(stack.os, "getloadavg", lambda: (load, load, load))
    monkeypatch.setattr(stack.os, "cpu_count", lambda: cores)

    assert patience(60) == pytest.approx(stretched)


def test_the_stack_leaves_the_public_urls_to_the_services(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ports = itertools.count(20_000)
    monkeypatch.setattr(stack, "free_port", lambda: next(ports))
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://stale.example:8000")
    monkeypatch.setenv("NOTIFIER_PUBLIC_URL", "http://stale.example:8001")

    env = Stack.configure(tmp_path, "127.0.0.1:9092", suffix="t").env

    assert "PUBLIC_BASE_URL" not in env and "NOTIFIER_PUBLIC_URL" not in env
    assert env["GATEWAY_PORT"] != "8000" and env["NOTIFIER_PORT"] != "8001"
