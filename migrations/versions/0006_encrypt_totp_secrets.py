"""Authenticator-app (TOTP) secrets encrypted at rest, with the keys of the contact details.

The column goes from VARCHAR(64) to TEXT (a Fernet token of a secret is about 140 characters)
holding the encrypted secret; the downgrade decrypts the secrets again. Both need the app's
ENCRYPTION_KEYS, which `flask db upgrade` loads with the app.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:10:00.000000
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from app import crypto

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _replace_column(sa.String(length=64), sa.Text(), crypto.encrypt)


def downgrade() -> None:
    _replace_column(sa.Text(), sa.String(length=64), crypto.decrypt)


def _replace_column(
    old_type: sa.types.TypeEngine[str], new_type: sa.types.TypeEngine[str], convert: Callable[[str], str]
) -> None:
    """Move `totp_secret` to a column of `new_type` holding `convert(secret)`.

    A new column, filled, then put in the old one's place, rather than a batch `alter_column`: on
    SQLite that rebuilds the table, and dropping the old table inside the migration's transaction
    trips the foreign keys of every note and status change written by staff (SQLite cannot turn
    them off inside a transaction). SQLite adds, drops and renames columns natively (3.35+).
    """
    op.add_column("staff_user", sa.Column("totp_secret_new", new_type, nullable=True))
    table = sa.table(
        "staff_user",
        sa.column("id", sa.Integer()),
        sa.column("totp_secret", old_type),
        sa.column("totp_secret_new", new_type),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.totp_secret).where(table.c.totp_secret.is_not(None))).all()
    for account_id, secret in rows:
        connection.execute(table.update().where(table.c.id == account_id).values(totp_secret_new=convert(secret)))
    op.drop_column("staff_user", "totp_secret")
    op.alter_column(
        "staff_user", "totp_secret_new", new_column_name="totp_secret", existing_type=new_type, existing_nullable=True
    )
