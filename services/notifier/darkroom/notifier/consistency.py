"""A stream sends only what the database has recorded as accepted, so it waits until the events
that woke it are recorded: the projector may refuse them, and a client that reads `job.completed`
and then GETs the job must see it completed."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence

from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_exponential

from darkroom.contracts.events import JobEvent
from darkroom.runtime.db.history import EventHistory, Verdict

logger = logging.getLogger(__name__)

# The first checks come quickly (the projector usually records within milliseconds); a
# projector that is far behind is then polled at most ten times a second per waiting stream.
POLL = wait_exponential(multiplier=0.005, max=0.1)


async def when_recorded(
    events: Sequence[JobEvent], history: EventHistory, warn_every_s: float, give_up_s: float = 10.0
) -> dict[uuid.UUID, Verdict]:
    """The verdict on every one of `events`, once all of them are recorded (accepted or refused).

    One query checks the whole batch per poll, so a stream carrying many jobs waits about one
    projector lag per batch: an event the database has not judged may yet be refused. While it
    waits it logs a warning every `warn_every_s`. After `give_up_s` it returns the verdicts it has:
    an event read from a log the broker then lost may never be recorded (the stream reads the
    database again later, so one recorded after all is still sent).
    """
    waiting = {e.event_id for e in events}
    found: dict[uuid.UUID, Verdict] = {}
    started = last_warning = time.monotonic()

    async def still_missing() -> bool:
        nonlocal last_warning
        found.update(await history.verdicts(waiting))
        waiting.difference_update(found)
        now = time.monotonic()
        if waiting and now - last_warning >= warn_every_s:
            last_warning = now
            logger.warning(
                "%d events not recorded after %.1f s; the stream waits for the projector",
                len(waiting),
                now - started,
            )
        return bool(waiting)

    if waiting:
        retrying = AsyncRetrying(
            retry=retry_if_result(bool), wait=POLL, stop=stop_after_delay(give_up_s)
        )
        try:
            await retrying(still_missing)
        except RetryError:
            logger.warning(
                "%d events never recorded in %.0f s: not waiting for them", len(waiting), give_up_s
            )
    return found
