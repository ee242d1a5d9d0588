"""Judging blind: a clinic-wide switch, and whether each judgement was recorded before its author
saw the rules' outcome.

`clinic_switch` holds the clinic's on/off settings (an absent row is off); `blind_judgement` is
the first. Every judgement recorded before this migration was made with the rules' outcome in
view (the form even preselected it), so `blind` is false for them.

Revision ID: 0011_blind
Revises: 0010
Create Date: 2026-12-11 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_blind"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clinic_switch",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("name IN ('blind_judgement')", name=op.f("ck_clinic_switch_name")),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["staff_user.id"],
            name=op.f("fk_clinic_switch_changed_by_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_clinic_switch")),
    )
    # A plain ADD COLUMN, not a batch copy of the table: on SQLite a copy would drop the triggers
    # that keep judgements append-only.
    op.add_column("clinician_judgement", sa.Column("blind", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no copy), so the append-only triggers stay.
    op.drop_column("clinician_judgement", "blind")
    op.drop_table("clinic_switch")
