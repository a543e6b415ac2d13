"""webhooks: a job's subscription, each delivery of an accepted event (one webhook id across its
attempts), each attempt, and the receivers that answered 410 Gone

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from darkroom.runtime.db.types import BigId, UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _subscriptions_and_deliveries()
    _attempts_and_disabled()


def _subscriptions_and_deliveries() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("job_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime),
        sa.Column("claim_id", sa.String(36)),
        sa.Column("claimed_until", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
    )
    op.create_index(
        "ix_webhook_deliveries_status_next_attempt_at",
        "webhook_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        "ix_webhook_deliveries_job_id_created_at", "webhook_deliveries", ["job_id", "created_at"]
    )


def _attempts_and_disabled() -> None:
    op.create_table(
        "webhook_attempts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
    )
    op.create_index(
        "ix_webhook_attempts_webhook_id_attempt", "webhook_attempts", ["webhook_id", "attempt"]
    )
    op.create_table(
        "webhook_disabled",
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("url_sha256", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("disabled_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_disabled")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
