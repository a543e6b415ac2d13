"""jobs, job_events and outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from darkroom.runtime.db.types import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    _jobs()
    _job_events()
    _outbox()


def _jobs() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        sa.Column("message", sa.String(200)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON),
        sa.Column("error", sa.JSON),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
        sa.PrimaryKeyConstraint("job_id", name="pk_jobs"),
    )
    op.create_index(
        "ix_jobs_user_id_created_at_job_id", "jobs", ["user_id", "created_at", "job_id"]
    )


def _job_events() -> None:
    op.create_table(
        "job_events",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
        sa.UniqueConstraint("event_id", name="uq_job_events_event_id"),
    )
    op.create_index("ix_job_events_job_id_seq", "job_events", ["job_id", "seq"])


def _outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigId, autoincrement=True),
        sa.Column("topic", sa.String(255), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_index("ix_job_events_job_id_seq", "job_events")
    op.drop_table("job_events")
    op.drop_index("ix_jobs_user_id_created_at_job_id", "jobs")
    op.drop_table("jobs")
