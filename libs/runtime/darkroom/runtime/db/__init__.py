"""Job records: SQLAlchemy 2 async Core, one implementation for SQLite and PostgreSQL."""

from darkroom.jobs.records import JobRecord, NewJob, OutboxMessage
from darkroom.runtime.db.engine import Database, open_database
from darkroom.runtime.db.outbox import OutboxRow, OutboxStore
from darkroom.runtime.db.store import JobStore
from darkroom.runtime.db.uploads import UploadRecord, UploadStore

__all__ = [
    "Database",
    "JobRecord",
    "JobStore",
    "NewJob",
    "OutboxMessage",
    "OutboxRow",
    "OutboxStore",
    "UploadRecord",
    "UploadStore",
    "open_database",
]
