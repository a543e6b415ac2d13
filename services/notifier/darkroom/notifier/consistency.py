"""Terminal events go out only once the database has them, so a client that reads
`job.completed` on the stream and then GETs the job sees it completed, with its assets."""

from __future__ import annotations

import logging

from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_fixed

from darkroom.contracts.events import JobEvent, is_terminal
from darkroom.runtime.db import JobStore

logger = logging.getLogger(__name__)


async def when_recorded(event: JobEvent, store: JobStore, timeout_s: float) -> JobEvent:
    """Return the event once it is recorded (terminal events only; others pass at once).

    Waits at most `timeout_s` (the projector is down or far behind), then lets it through
    anyway: a late event beats a stream that never ends.
    """
    if not is_terminal(event):
        return event
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda recorded: not recorded),
        wait=wait_fixed(0.01),
        stop=stop_after_delay(timeout_s),
    )
    try:
        await retrying(store.has_event, event.event_id)
    except RetryError:
        logger.warning(
            "job %s: %s not recorded after %.0f s; sending it anyway",
            event.job_id,
            event.type,
            timeout_s,
        )
    return event
