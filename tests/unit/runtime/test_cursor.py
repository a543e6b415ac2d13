"""Pagination cursors: opaque, round-trip exactly, and refuse anything the API did not make."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from darkroom.runtime.db.cursor import Cursor, InvalidCursor


@pytest.mark.parametrize(
    "created_at",
    [
        datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_cursor_decodes_to_what_was_encoded(created_at: datetime) -> None:
    cursor = Cursor(created_at=created_at, job_id=str(uuid.uuid4()))

    assert Cursor.decode(cursor.encode()) == cursor


def test_an_encoded_cursor_is_url_safe_without_padding() -> None:
    value = Cursor(created_at=datetime.now(UTC), job_id=str(uuid.uuid4())).encode()

    assert "=" not in value and "/" not in value and "+" not in value


def _b64(raw: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a cursor!",
        "%%%%",
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
        _b64({"created_at": "2025-01-01T00:00:00+00:00"}),
        _b64(["2025-01-01T00:00:00+00:00"]),
        _b64(["2025-01-01T00:00:00+00:00", "job", "extra"]),
        _b64(["yesterday", "job"]),
        _b64([12345, "job"]),
        _b64(["2025-01-01T00:00:00", "job"]),  # naive time
        _b64(["2025-01-01T00:00:00+00:00", 42]),
        _b64(None),
    ],
)
def test_garbage_is_an_invalid_cursor(garbage: str) -> None:
    with pytest.raises(InvalidCursor, match="next_cursor"):
        Cursor.decode(garbage)
