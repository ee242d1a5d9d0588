"""Screenings filed from another tool's FHIR QuestionnaireResponse (issue 19): when staff imported
one (`imported_at`), so the portal can say that IMS Screen never showed the person its result,
and the identifier of the response it came from (`imported_from`, unique: never filed twice).

Every screening before this migration was answered on the patient pages: NULL.

Revision ID: 0014_imported
Revises: 0013
Create Date: 2026-12-07 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_imported"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy of the table: a copy on SQLite would drop its triggers.
    op.add_column("screening", sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("screening", sa.Column("imported_from", sa.String(400), nullable=True))
    # An index, not a UNIQUE column: SQLite cannot add a column with a constraint. NULLs may repeat.
    op.create_index("uq_screening_imported_from", "screening", ["imported_from"], unique=True)


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it), which keeps the tally triggers.
    op.drop_index("uq_screening_imported_from", table_name="screening")
    op.drop_column("screening", "imported_from")
    op.drop_column("screening", "imported_at")
