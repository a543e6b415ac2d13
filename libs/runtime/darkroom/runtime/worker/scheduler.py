"""The retry scheduler: moves each waiting retry back to its request topic when it is due.

It reads the job type's retry topic with the shared consumer loop, one waiting record per
slot, so retries with different delays never wait behind one another; a partition is committed
up to its oldest retry not yet moved, so a crash re-reads (and re-moves) the ones in between:
the moved request has a deterministic id and its attempt emits the same event ids.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import ConsumerRecord

from darkroom.runtime.kafka import Send
from darkroom.runtime.worker import headers as h
from darkroom.runtime.worker.consumer import Handle

logger = logging.getLogger(__name__)


def retry_mover(send: Send) -> Handle:
    """The handler of a retry topic: wait until the record's `not-before`, then send it on."""

    async def on_retry(record: ConsumerRecord) -> None:
        target = h.header(record.headers, h.TARGET_TOPIC)
        due = h.header(record.headers, h.NOT_BEFORE)
        if target is None:
            logger.error(
                "retry without a target topic at %s@%d: dropped", record.topic, record.offset
            )
            return
        if due is not None and (wait := int(due) / 1000 - time.time()) > 0:
            await asyncio.sleep(wait)
        await send(target, record.value or b"", record.key, [])

    return on_retry
