"""broker_incarnations: the broker log (incarnation) the jobs were last sent to, so a gateway
that finds another one (the broker lost its log, with or without the rest of the stack) queues
the waiting jobs again at once

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from darkroom.runtime.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broker_incarnations",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("incarnation", sa.String(36), nullable=False),
        sa.Column("seen_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("broker_incarnations")
