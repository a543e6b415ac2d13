"""In-memory ports of the worker machinery: every event and message it would publish."""

from __future__ import annotations

from dataclasses import dataclass, field

from darkroom.contracts.events import JobEvent
from darkroom.contracts.jobtypes import JobType
from darkroom.contracts.topics import Topics
from darkroom.runtime.worker import AttemptPorts, Origin, RetryPolicy

ORIGIN = Origin("jobs.image.requested", 3, 41)


@dataclass
class Sent:
    topic: str
    value: bytes
    key: bytes | None
    headers: dict[str, str]


@dataclass
class FakeBroker:
    events: list[JobEvent] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    async def emit(self, event: JobEvent) -> None:
        self.events.append(event)

    async def send(
        self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        self.sent.append(Sent(topic, value, key, {k: v.decode() for k, v in headers}))

    def ports(self, policy: RetryPolicy | None = None) -> AttemptPorts:
        return AttemptPorts(
            JobType.IMAGE, self.emit, self.send, Topics(), policy or RetryPolicy(), "worker-1"
        )

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]
