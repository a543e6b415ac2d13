"""Assembling a worker service: for each job type it runs, a request consumer and a retry mover,
all sharing one producer, one control tail (cancels) and one set of provider limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.requests import JobRequested
from darkroom.contracts.topics import Topics
from darkroom.runtime.kafka import Emit, event_emitter, make_producer, message_sender
from darkroom.runtime.kafka_connection import client_options
from darkroom.runtime.providers.registry import Registry
from darkroom.runtime.settings import BaseServiceSettings, KafkaSettings
from darkroom.runtime.worker.app import Part, WorkerParts
from darkroom.runtime.worker.attempt import AttemptPorts, Work
from darkroom.runtime.worker.consumer import JobConsumer
from darkroom.runtime.worker.control import CancelRegistry, ControlTail
from darkroom.runtime.worker.limits import ProviderLimits
from darkroom.runtime.worker.options import consumer_options
from darkroom.runtime.worker.requests import request_handler
from darkroom.runtime.worker.scheduler import retry_mover
from darkroom.runtime.worker.settings import WorkerSettings

R = TypeVar("R", bound=JobRequested)


@dataclass(frozen=True)
class JobKind(Generic[R]):
    """One job type a worker runs: its request model, and how to make its work function once the
    producer exists (`work(emit)`; progress events go out through `emit`)."""

    job_type: JobType
    model: type[R]
    work: Callable[[Emit], Work[R]]


def _limits(settings: WorkerSettings, kinds: Sequence[JobKind[Any]]) -> ProviderLimits:
    """The providers' limits: PROVIDER_LIMITS over what the plug-ins of these job types declare."""
    declared = Registry.installed().declared_limits([kind.job_type for kind in kinds])
    return settings.limits(declared)


def assemble(settings: Any, client_id: str, kinds: Sequence[JobKind[Any]]) -> WorkerParts:
    """The consumers and producer of a worker running `kinds` (built inside the event loop).

    `settings` is the worker's settings class: BaseServiceSettings, KafkaSettings and
    WorkerSettings mixed (one class per service, hence `Any` here and the check below)."""
    assert isinstance(settings, BaseServiceSettings)
    assert isinstance(settings, KafkaSettings) and isinstance(settings, WorkerSettings)
    topics: Topics = settings.topics
    producer = make_producer(settings, client_id=client_id)
    emit, send = event_emitter(producer, topics.events), message_sender(producer)
    cancels, limits = CancelRegistry(), _limits(settings, kinds)
    control = ControlTail(
        client_options(settings), topics.control, cancels, settings.kafka_fetch_max_wait_ms
    )
    parts: list[Part] = [control]
    for kind in kinds:
        ports = AttemptPorts(
            kind.job_type,
            emit,
            send,
            topics,
            settings.retry_policy,
            settings.instance_id,
            limits,
            cancels,
        )
        names = topics.of(kind.job_type)
        requests = consumer_options(
            settings, settings.request_topics(names.by_priority()), names.worker_group, client_id
        )
        retries = consumer_options(
            settings,
            {names.retry: 1},
            names.retry_group,
            client_id,
            concurrency=settings.worker_retry_capacity,
        )
        parts.append(JobConsumer(requests, request_handler(kind.model, ports, kind.work(emit))))
        parts.append(JobConsumer(retries, retry_mover(send)))
    return WorkerParts(parts, producer)
