"""What every worker service shares: the consumer loop, attempts and their outcomes (retries,
dead letters, timeouts), the retry scheduler, settings and the ASGI app."""

from darkroom.runtime.worker.app import WorkerParts, worker_app
from darkroom.runtime.worker.assembly import JobKind, assemble
from darkroom.runtime.worker.attempt import AttemptPorts, Origin, Work, run_attempt
from darkroom.runtime.worker.consumer import Handle, JobConsumer
from darkroom.runtime.worker.control import CancelRegistry, ControlTail
from darkroom.runtime.worker.options import ConsumerOptions, consumer_options
from darkroom.runtime.worker.requests import request_handler
from darkroom.runtime.worker.retry import RetryPolicy
from darkroom.runtime.worker.scheduler import retry_mover
from darkroom.runtime.worker.settings import WorkerSettings

__all__ = [
    "AttemptPorts",
    "CancelRegistry",
    "ConsumerOptions",
    "ControlTail",
    "Handle",
    "JobConsumer",
    "JobKind",
    "Origin",
    "RetryPolicy",
    "Work",
    "WorkerParts",
    "WorkerSettings",
    "assemble",
    "consumer_options",
    "request_handler",
    "retry_mover",
    "run_attempt",
    "worker_app",
]
