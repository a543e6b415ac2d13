"""Kafka headers the worker machinery writes: on retries (when due) and on dead letters (why)."""

from __future__ import annotations

from datetime import datetime

NOT_BEFORE = "not-before"  # epoch milliseconds: a retry scheduler reads it without parsing the body
TARGET_TOPIC = "target-topic"  # where a due retry goes
DLQ_ERROR_CODE = "dlq-error-code"
DLQ_ERROR_MESSAGE = "dlq-error-message"
DLQ_ATTEMPTS = "dlq-attempts"
DLQ_ORIGINAL_TOPIC = "dlq-original-topic"
DLQ_ORIGINAL_PARTITION = "dlq-original-partition"
DLQ_ORIGINAL_OFFSET = "dlq-original-offset"
DLQ_FAILED_AT = "dlq-failed-at"

Headers = list[tuple[str, bytes]]


def header(headers: Headers | tuple[tuple[str, bytes], ...] | None, name: str) -> str | None:
    """The value of header `name`, decoded, or None."""
    for key, value in headers or ():
        if key == name:
            return value.decode(errors="replace")
    return None


def epoch_ms(at: datetime) -> bytes:
    return str(int(at.timestamp() * 1000)).encode()
