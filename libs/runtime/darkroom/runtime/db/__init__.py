"""Job records: SQLAlchemy 2 async Core, one implementation for SQLite and PostgreSQL."""

from darkroom.runtime.db.engine import Database, open_database
from darkroom.runtime.db.store import JobRecord, JobStore, NewJob, OutboxMessage, OutboxRow

__all__ = [
    "Database",
    "JobRecord",
    "JobStore",
    "NewJob",
    "OutboxMessage",
    "OutboxRow",
    "open_database",
]
