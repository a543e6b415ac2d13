"""The tables: jobs (a projection of the events), job_events (durable history), outbox, leases,
broker_incarnations, uploads, and the webhooks' subscriptions, deliveries, attempts and disabled
receivers."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    true,
)

from darkroom.runtime.db.types import BigId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("type", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("progress", Integer, nullable=False),
    Column("message", String(200)),
    Column("attempts", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("params", JSON, nullable=False),
    Column("result", JSON),
    Column("error", JSON),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("priority", String(8), nullable=False, server_default="normal"),
    Column("series_start", Integer, nullable=False, server_default="1"),
    Column("parent_id", String(36)),  # the batch or chain the job belongs to
    # The request whose run the job accepts reports of: a new run fences off those before it.
    Column("run_id", String(36)),
)
Index(None, jobs.c.user_id, jobs.c.created_at, jobs.c.job_id)
Index(None, jobs.c.parent_id)
Index(None, jobs.c.status, jobs.c.updated_at)  # the sweeper's query

job_events = Table(
    "job_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("job_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("type", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    # False: a report the job refused (a superseded attempt's, or after the end); kept, not shown.
    Column("accepted", Boolean, nullable=False, server_default=true()),
)
Index(None, job_events.c.job_id, job_events.c.seq)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("topic", String(255), nullable=False),
    Column("key", String(64), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

broker_incarnations = Table(
    "broker_incarnations",
    metadata,
    Column("name", String(200), primary_key=True),  # the incarnation topic's name
    Column("incarnation", String(36), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)

uploads = Table(
    "uploads",
    metadata,
    Column("asset_id", String(36), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("key", String(1024), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# A job's webhook (`webhook_url`, `webhook_events`), written with the job.
webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("events", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# One accepted event to send to a job's webhook; `webhook_id` is the same on every attempt.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("job_id", String(36), nullable=False),
    Column("user_id", String(200), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime),
    # The sender that claimed it, until when: another takes it over once the claim has expired.
    Column("claim_id", String(36)),
    Column("claimed_until", UTCDateTime),
    Column("finished_at", UTCDateTime),
)
Index(None, webhook_deliveries.c.status, webhook_deliveries.c.next_attempt_at)
Index(None, webhook_deliveries.c.job_id, webhook_deliveries.c.created_at)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("webhook_id", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer),
    Column("status_code", Integer),
    Column("error", Text),
)
Index(None, webhook_attempts.c.webhook_id, webhook_attempts.c.attempt)

# A receiver that answered 410 Gone: no more deliveries to it for the jobs submitted before.
webhook_disabled = Table(
    "webhook_disabled",
    metadata,
    Column("user_id", String(200), primary_key=True),
    Column("url_sha256", String(64), primary_key=True),
    Column("url", String(2048), nullable=False),
    Column("disabled_at", UTCDateTime, nullable=False),
)
