"""leases (one sweeper at a time) and the index the sweeper reads jobs by

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from darkroom.runtime.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_jobs_status_updated_at", "jobs", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status_updated_at", "jobs")
    op.drop_table("leases")
