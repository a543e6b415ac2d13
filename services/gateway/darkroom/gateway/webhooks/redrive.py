"""Webhook dead letters (`webhooks.dlq`): list them, and send them again once the receiver is
fixed. A redriven delivery is pending again with a new retry window and the same webhook id;
one that is not failed any more (redriven already) is skipped, so a redrive is safe to repeat."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from darkroom.contracts.webhooks import WebhookDeadLetter
from darkroom.gateway.dead_letters import DeadLetter
from darkroom.runtime.db.webhooks import WebhookStore


def webhook_letter(letter: DeadLetter) -> WebhookDeadLetter | None:
    """The delivery a letter carries, if it is one."""
    try:
        return WebhookDeadLetter.model_validate_json(letter.payload)
    except ValidationError:
        return None


def describe(letter: DeadLetter) -> str:
    found = webhook_letter(letter)
    where = f"@{letter.partition}:{letter.offset}"
    if found is None:
        return f"{where} not a webhook delivery ({len(letter.payload)} bytes)"
    return (
        f"{where} {found.webhook_id} of job {found.job_id}: {found.event_type} to {found.url} "
        f"after {found.attempts} attempt(s), at {found.failed_at.isoformat()}: {found.last_error}"
    )


async def redrive_all(
    letters: list[DeadLetter], store: WebhookStore, now: datetime, *, dry_run: bool = False
) -> list[str]:
    """Make each letter's delivery pending again; one line per letter."""
    lines = []
    for letter in letters:
        found = webhook_letter(letter)
        where = f"@{letter.partition}:{letter.offset}"
        if found is None:
            lines.append(f"{where} skipped: not a webhook delivery")
        elif dry_run:
            lines.append(f"{where} would send {found.webhook_id} again")
        elif await store.redrive(found.webhook_id, now):
            lines.append(f"{where} {found.webhook_id} pending again")
        else:
            lines.append(f"{where} skipped: {found.webhook_id} is not failed (redriven already?)")
    return lines
