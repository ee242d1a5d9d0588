"""The audit trail refuses TRUNCATE too, on PostgreSQL.

Row triggers (0003) refuse UPDATE and DELETE of audit events, but TRUNCATE fires no row
trigger: only a statement-level TRUNCATE trigger stops it. The app's role has no TRUNCATE
privilege anyway (deploy/postgresql-roles.sql); this stops the owner role too, and any role
that was granted more than it should have. SQLite has no TRUNCATE (a DELETE without WHERE
fires the row triggers).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:10:00.000000
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "audit_event_no_truncate"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_event is append-only: TRUNCATE is not allowed'; END $$"
    )
    op.execute(f"CREATE TRIGGER {NAME} BEFORE TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {NAME} ON audit_event")
    op.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
