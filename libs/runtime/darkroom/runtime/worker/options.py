"""What a worker's consumer loop is told: its topics, group, concurrency and timings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from darkroom.runtime.kafka_connection import KafkaConnection, client_options
from darkroom.runtime.settings import KafkaSettings
from darkroom.runtime.worker.settings import WorkerSettings


@dataclass(frozen=True)
class ConsumerOptions:
    connection: KafkaConnection
    topics: Mapping[str, int]  # topic -> weight of its turns (one topic: any weight)
    group_id: str
    client_id: str
    concurrency: int = 4
    drain_timeout_s: float = 30.0
    commit_interval_s: float = 0.05
    session_timeout_ms: int = 6000
    fetch_max_wait_ms: int = 20
    max_poll_interval_ms: int = 300_000


def consumer_options(
    settings: KafkaSettings,
    topics: Mapping[str, int],
    group_id: str,
    client_id: str,
    concurrency: int | None = None,
) -> ConsumerOptions:
    """Options from a worker's settings (KafkaSettings mixed with WorkerSettings)."""
    worker = settings if isinstance(settings, WorkerSettings) else WorkerSettings()
    return ConsumerOptions(
        connection=client_options(settings),
        topics=dict(topics),
        group_id=group_id,
        client_id=client_id,
        concurrency=concurrency or worker.worker_concurrency,
        drain_timeout_s=worker.worker_drain_timeout_s,
        commit_interval_s=worker.worker_commit_interval_ms / 1000,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
