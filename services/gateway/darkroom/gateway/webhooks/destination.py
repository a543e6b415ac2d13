"""A submission's `webhook_url`, checked at submit by the rules every delivery checks again
(scheme, DNS answer, every address): a receiver on a private address is a 422 naming the field."""

from __future__ import annotations

import logging

from darkroom.contracts.submissions import WebhookOptions
from darkroom.gateway.errors import InvalidInput
from darkroom.media.fetch import FetchFailed, FetchPolicy, FetchRefused
from darkroom.media.post import check_destination

logger = logging.getLogger(__name__)


async def check_webhook_url(body: WebhookOptions, policy: FetchPolicy) -> None:
    """Raises InvalidInput if the job's receiver may never be sent to. A name that cannot be
    resolved for now is accepted: every delivery resolves and checks it again."""
    if body.webhook_url is None:
        return
    try:
        await check_destination(body.webhook_url, policy)
    except FetchRefused as exc:
        raise InvalidInput(("body", "webhook_url"), f"the webhook URL is refused: {exc}") from exc
    except FetchFailed as exc:
        logger.info("webhook URL not resolved at submit (checked at delivery): %s", exc)
