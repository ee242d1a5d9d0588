"""The patient's language (issue 17): the language a screening was last worked on in, which its
resume link opens in, and the language each answer was given in.

Every screening before this migration was in English, the only language there was.

Revision ID: 0012_language
Revises: 0011_blind
Create Date: 2026-12-07 01:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_language"
down_revision = "0011_blind"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not a batch copy of the table: a copy on SQLite would drop its triggers.
    op.add_column("screening", sa.Column("language", sa.String(length=16), server_default="en-CA", nullable=False))
    op.add_column("screening", sa.Column("answer_languages", sa.JSON(), server_default="{}", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("screening") as batch:
        batch.drop_column("answer_languages")
        batch.drop_column("language")
