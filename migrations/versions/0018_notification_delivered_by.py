"""How each sent email went (`notification.delivered_by`): through the mail server ("smtp"), or only
written to the sending process's console ("console": development, no SMTP_HOST), as that process
knew when it sent it. The staff page read it from the web server's own SMTP_HOST, which need not be
how `flask notify` (cron, which sends most emails) is set up: an email sent by SMTP was shown as
"written to the server's console only" on a web server without one.

Emails sent before this migration: NULL, and the page guesses from its own settings, as before.

Revision ID: 0018_notification_delivered_by
Revises: 0017_imported_authored
Create Date: 2026-12-16 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_notification_delivered_by"
down_revision = "0017_imported_authored"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A batch copy on SQLite, for the CHECK constraint: `notification` has no triggers to lose.
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivered_by", sa.String(16), nullable=True))
        batch_op.create_check_constraint("delivered_by", "delivered_by IN ('smtp', 'console')")


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_delivered_by"), type_="check")
        batch_op.drop_column("delivered_by")
