"""Opaque pagination cursors for job lists."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime


class InvalidCursor(ValueError):
    """The cursor was not made by this API."""


@dataclass(frozen=True)
class Cursor:
    """Position after the last job of a page: (created_at, job_id), newest first."""

    created_at: datetime
    job_id: str

    def encode(self) -> str:
        raw = json.dumps([self.created_at.isoformat(), self.job_id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            created_at, job_id = json.loads(raw)
            parsed = datetime.fromisoformat(created_at)
        except (ValueError, TypeError) as exc:
            raise InvalidCursor(
                "cursor is not valid: pass next_cursor from a previous page"
            ) from exc
        if parsed.tzinfo is None or not isinstance(job_id, str):
            raise InvalidCursor("cursor is not valid: pass next_cursor from a previous page")
        return cls(created_at=parsed, job_id=job_id)
