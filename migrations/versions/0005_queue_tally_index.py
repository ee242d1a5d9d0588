"""An index for the staff queue's counts by outcome and review status (one index-only scan).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 04:00:00.000000
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.create_index("ix_screening_tally", ["state", "outcome", "review_status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.drop_index("ix_screening_tally")
