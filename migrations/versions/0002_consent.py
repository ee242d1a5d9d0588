"""Record when the person consented to their answers being kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening") as batch_op:
        # Existing drafts were all created at consent, so their creation time is their consent time.
        batch_op.add_column(sa.Column("consented_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE screening SET consented_at = created_at")
    with op.batch_alter_table("screening") as batch_op:
        batch_op.alter_column("consented_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("screening") as batch_op:
        batch_op.drop_column("consented_at")
