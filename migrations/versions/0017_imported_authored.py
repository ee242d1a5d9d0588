"""When the person answered an imported screening, as the file said it (`imported_authored`): the
QuestionnaireResponse's own `authored` date, as read. The screening's `submitted_at` is then that
moment, and `imported_at` stays when staff filed it; the column says whether the file gave a date
at all, and whether a day only (a day alone is kept as the start of that day, clinic time).

Screenings imported before this migration were filed as answered when imported: NULL, as for a
file that gives no date; screenings answered on the patient pages: NULL.

Revision ID: 0017_imported_authored
Revises: 0016_followup_reports
Create Date: 2026-12-16 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_imported_authored"
down_revision = "0016_followup_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy of the table: a copy on SQLite would drop its triggers.
    op.add_column("screening", sa.Column("imported_authored", sa.String(40), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later have it), which keeps the tally triggers.
    op.drop_column("screening", "imported_authored")
