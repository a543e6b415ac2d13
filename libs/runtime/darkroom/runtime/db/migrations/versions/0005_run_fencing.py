"""jobs.run_id (the request whose run the job accepts reports of: a new run fences off the
ones before it) and job_events.accepted (a report the job refused is kept for operators, never shown)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("run_id", sa.String(36), nullable=True))
    with op.batch_alter_table("job_events") as batch:
        batch.add_column(
            sa.Column("accepted", sa.Boolean, nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("job_events") as batch:
        batch.drop_column("accepted")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("run_id")
