"""A patient can withdraw an emergency answer chosen by mistake, and staff see that and when.

The emergency screening is kept as it was sent (the clinic was told of it); it records when its
answer was withdrawn, and the draft the person carries on in points back to it. The clinic is
emailed about the withdrawal, a new notification kind.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 22:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("clinic_new_request", "clinic_urgent_screening", "patient_request_confirmation")
KINDS_AFTER = (*KINDS_BEFORE[:2], "clinic_emergency_withdrawn", KINDS_BEFORE[2])


def _kinds(kinds: tuple[str, ...]) -> str:
    return "kind IN ({})".format(", ".join(f"'{kind}'" for kind in kinds))


def upgrade() -> None:
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.add_column(sa.Column("emergency_withdrawn_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("continues_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_screening_continues_id"), ["continues_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_screening_continues_id_screening"),
            "screening",
            ["continues_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint("kind", _kinds(KINDS_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'clinic_emergency_withdrawn'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint("kind", _kinds(KINDS_BEFORE))
    with op.batch_alter_table("screening", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_screening_continues_id_screening"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_screening_continues_id"))
        batch_op.drop_column("continues_id")
        batch_op.drop_column("emergency_withdrawn_at")
