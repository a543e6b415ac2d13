"""Dead letters: read a job type's dead-letter topic, and send its letters back (operators' CLI).

A dead letter that is a job's request is replayed *through the job*: the job, failed, is sent
back to the queue as by `POST /v1/jobs/{id}/retry` (`job.requeued` and a new request, in one
transaction), so its status, its events and its stream stay consistent; a job that is no longer
failed (retried already, or completed since) is skipped, which makes a replay safe to run twice.
A letter that is not a request (poison) can only be re-published as it is, with `raw`, once
whatever produced or refused it is fixed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from darkroom.contracts.jobtypes import JobStatus
from darkroom.contracts.requests import JobRequested
from darkroom.contracts.topics import Topics
from darkroom.gateway.retry import Retried, retry_job
from darkroom.runtime.db import JobStore
from darkroom.runtime.kafka import MissingTopic, Send, topic_partitions
from darkroom.runtime.kafka_connection import KafkaConnection
from darkroom.runtime.worker import headers as h

OPERATOR = "operator"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    payload: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        return h.header(self.headers, name)

    @property
    def request(self) -> JobRequested | None:
        """The job request it carries, if it is one."""
        try:
            return JobRequested.model_validate_json(self.payload)
        except ValidationError:
            return None

    def describe(self) -> str:
        request = self.request
        what = f"job {request.job_id}" if request else f"not a request ({len(self.payload)} bytes)"
        return (
            f"@{self.partition}:{self.offset} {what}: {self.header(h.DLQ_ERROR_CODE)} after "
            f"{self.header(h.DLQ_ATTEMPTS)} attempt(s) at {self.header(h.DLQ_FAILED_AT)}, from "
            f"{self.header(h.DLQ_ORIGINAL_TOPIC)}[{self.header(h.DLQ_ORIGINAL_PARTITION)}]"
            f"@{self.header(h.DLQ_ORIGINAL_OFFSET)}: {self.header(h.DLQ_ERROR_MESSAGE)}"
        )


async def read_dead_letters(
    connection: KafkaConnection, topic: str, idle_s: float = 2.0
) -> list[DeadLetter]:
    """Every letter on `topic`, oldest first per partition, read until none came for `idle_s`.

    It reads until quiet instead of up to the end offsets because Tansu's end offsets are wrong.
    """
    consumer = AIOKafkaConsumer(**connection, group_id=None)
    await consumer.start()
    try:
        try:
            partitions = topic_partitions(consumer, topic)
        except MissingTopic:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        letters: list[DeadLetter] = []
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_s:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                quiet_since = time.monotonic()
                letters.extend(
                    DeadLetter(r.partition, r.offset, r.key, r.value or b"", tuple(r.headers))
                    for r in records
                )
        return sorted(letters, key=lambda letter: (letter.partition, letter.offset))
    finally:
        await consumer.stop()


async def replay(
    letter: DeadLetter,
    store: JobStore,
    topics: Topics,
    send: Send,
    *,
    raw: bool = False,
    dry_run: bool = False,
) -> str:
    """Send one letter back; returns what was done (or would be, with `dry_run`)."""
    request = letter.request
    if request is None:
        return await _republish(letter, send, raw=raw, dry_run=dry_run)
    if dry_run:
        found = await store.get_job(request.job_id)
        retried = Retried(found, int(found.status == JobStatus.FAILED.value)) if found else None
    else:  # changes a failed job only
        retried = await retry_job(store, request.job_id, OPERATOR, topics)
    if retried is None:
        return f"skipped: job {request.job_id} is not in the database"
    before = retried.before
    if retried.runs == 0:
        return f"skipped: job {request.job_id} is {before.status}, not failed"
    if dry_run:
        return f"would queue job {request.job_id} again"
    return f"queued job {request.job_id} again (attempt {before.attempts + 1})"


async def _republish(letter: DeadLetter, send: Send, *, raw: bool, dry_run: bool) -> str:
    target = letter.header(h.DLQ_ORIGINAL_TOPIC)
    if not raw or target is None:
        return "skipped: not a request; pass --raw to publish it again as it is"
    if dry_run:
        return f"would publish it again to {target}"
    headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq-")]
    await send(target, letter.payload, letter.key, headers)
    return f"published it again to {target}"


async def replay_all(
    letters: list[DeadLetter],
    store: JobStore,
    topics: Topics,
    send: Send,
    *,
    raw: bool = False,
    dry_run: bool = False,
) -> list[str]:
    """Replay letters one after the other, in order; one line per letter."""
    lines = []
    for letter in letters:
        outcome = await replay(letter, store, topics, send, raw=raw, dry_run=dry_run)
        lines.append(f"@{letter.partition}:{letter.offset} {outcome}")
    return lines
