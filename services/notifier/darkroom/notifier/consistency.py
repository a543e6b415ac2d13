"""Terminal events go out only once the database has them, so a client that reads
`job.completed` on the stream and then GETs the job sees it completed, with its assets."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tenacity import AsyncRetrying, RetryError, retry_if_result, stop_after_delay, wait_fixed

from darkroom.contracts.events import JobEvent, is_terminal
from darkroom.runtime.db import JobStore

logger = logging.getLogger(__name__)


async def when_recorded(events: Sequence[JobEvent], store: JobStore, timeout_s: float) -> None:
    """Return once every terminal event among `events` is recorded; others do not wait.

    One query checks a whole batch, so a stream carrying many jobs waits about one projector
    lag per batch, not one per job. After `timeout_s` (the projector is down or far behind) the
    events go out anyway: a late event beats a stream that never ends.
    """
    waiting = {e.event_id for e in events if is_terminal(e)}
    if not waiting:
        return

    async def still_missing() -> bool:
        waiting.difference_update(await store.recorded_events(waiting))
        return bool(waiting)

    retrying = AsyncRetrying(
        retry=retry_if_result(bool), wait=wait_fixed(0.01), stop=stop_after_delay(timeout_s)
    )
    try:
        await retrying(still_missing)
    except RetryError:
        logger.warning(
            "%d terminal events not recorded after %.0f s; sending them anyway",
            len(waiting),
            timeout_s,
        )
