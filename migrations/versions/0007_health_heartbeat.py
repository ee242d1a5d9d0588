"""The health check's heartbeat: one row that every /healthz check updates and commits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    heartbeat = op.create_table(
        "health_heartbeat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beat", sa.BigInteger(), nullable=False),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_heartbeat")),
    )
    # The row exists from the start, so a check only ever updates it.
    op.bulk_insert(heartbeat, [{"id": 1, "beat": 0, "beat_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("health_heartbeat")
