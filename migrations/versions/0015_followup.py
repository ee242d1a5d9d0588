"""Follow-up after treatment (issue 18): the optional consent on the assessment request, the stop
on the screening, one row per time point with its invitation and answers, the activities the
person named and their scores, and the follow-up email in the outbox.

- `assessment_request.follow_up_consent_at`: the separate, optional consent to follow-ups.
- `screening.follow_ups_stopped_at`: the person stopped them (a plain ADD COLUMN: a batch copy
  of `screening` on SQLite would drop the tally triggers of 0013).
- `follow_up`: a time point (weeks after the first appointment), unique per screening, with its
  link's token hashed and the answers (NRS pain now and over the past week, PGIC, had IMS and
  how many sessions), each range checked.
- `follow_up_activity` (names encrypted) and `follow_up_activity_score` (PSFS, 0-10).
- `notification`: the kind `patient_follow_up`, the state `cancelled`, and `follow_up_id`.

Revision ID: 0015_followup
Revises: 0014_imported
Create Date: 2026-12-14 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_followup"
down_revision = "0014_imported"
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "clinic_new_request",
    "clinic_urgent_screening",
    "clinic_emergency_withdrawn",
    "patient_request_confirmation",
)
KINDS_AFTER = (*KINDS_BEFORE, "patient_follow_up")
STATES_BEFORE = ("pending", "sent", "failed")
STATES_AFTER = (*STATES_BEFORE, "cancelled")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{value}'" for value in values))


def _between(column: str, low: int, high: int) -> str:
    return f"{column} IS NULL OR ({column} >= {low} AND {column} <= {high})"


def upgrade() -> None:
    op.add_column("assessment_request", sa.Column("follow_up_consent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("screening", sa.Column("follow_ups_stopped_at", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stop_token_hash", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("current_pain", sa.Integer(), nullable=True),
        sa.Column("average_pain", sa.Integer(), nullable=True),
        sa.Column("pgic", sa.Integer(), nullable=True),
        sa.Column("had_ims", sa.String(length=8), nullable=True),
        sa.Column("ims_sessions", sa.Integer(), nullable=True),
        sa.CheckConstraint("week >= 1", name=op.f("ck_follow_up_week")),
        sa.CheckConstraint(_between("current_pain", 0, 10), name=op.f("ck_follow_up_current_pain")),
        sa.CheckConstraint(_between("average_pain", 0, 10), name=op.f("ck_follow_up_average_pain")),
        sa.CheckConstraint(_between("pgic", 1, 7), name=op.f("ck_follow_up_pgic")),
        sa.CheckConstraint(_one_of("had_ims", ("yes", "no", "not_sure")), name=op.f("ck_follow_up_had_ims")),
        sa.CheckConstraint(_between("ims_sessions", 1, 99), name=op.f("ck_follow_up_ims_sessions")),
        sa.CheckConstraint(
            "ims_sessions IS NULL OR had_ims = 'yes'", name=op.f("ck_follow_up_sessions_only_after_yes")
        ),
        sa.CheckConstraint(
            "answered_at IS NULL OR (current_pain IS NOT NULL AND average_pain IS NOT NULL"
            " AND pgic IS NOT NULL AND had_ims IS NOT NULL)",
            name=op.f("ck_follow_up_answered_is_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["screening_id"], ["screening.id"], name=op.f("fk_follow_up_screening_id_screening"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
        sa.UniqueConstraint("screening_id", "week", name="uq_follow_up_screening_id_week"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_follow_up_token_hash")),
        sa.UniqueConstraint("stop_token_hash", name=op.f("uq_follow_up_stop_token_hash")),
    )
    op.create_index(op.f("ix_follow_up_screening_id"), "follow_up", ["screening_id"], unique=False)

    op.create_table(
        "follow_up_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("position >= 1 AND position <= 3", name=op.f("ck_follow_up_activity_position")),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screening.id"],
            name=op.f("fk_follow_up_activity_screening_id_screening"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_activity")),
        sa.UniqueConstraint("screening_id", "position", name="uq_follow_up_activity_screening_id_position"),
    )
    op.create_index(op.f("ix_follow_up_activity_screening_id"), "follow_up_activity", ["screening_id"], unique=False)

    op.create_table(
        "follow_up_activity_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.CheckConstraint("score >= 0 AND score <= 10", name=op.f("ck_follow_up_activity_score_score")),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["follow_up_activity.id"],
            name=op.f("fk_follow_up_activity_score_activity_id_follow_up_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up.id"],
            name=op.f("fk_follow_up_activity_score_follow_up_id_follow_up"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_activity_score")),
        sa.UniqueConstraint("follow_up_id", "activity_id", name="uq_follow_up_activity_score_follow_up_id_activity_id"),
    )
    op.create_index(
        op.f("ix_follow_up_activity_score_activity_id"), "follow_up_activity_score", ["activity_id"], unique=False
    )
    op.create_index(
        op.f("ix_follow_up_activity_score_follow_up_id"), "follow_up_activity_score", ["follow_up_id"], unique=False
    )

    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_notification_follow_up_id"), ["follow_up_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_notification_follow_up_id_follow_up"),
            "follow_up",
            ["follow_up_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint("kind", _one_of("kind", KINDS_AFTER))
        batch_op.drop_constraint(op.f("ck_notification_state"), type_="check")
        batch_op.create_check_constraint("state", _one_of("state", STATES_AFTER))


def downgrade() -> None:
    op.execute("DELETE FROM notification WHERE kind = 'patient_follow_up'")
    op.execute("UPDATE notification SET state = 'failed' WHERE state = 'cancelled'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_notification_state"), type_="check")
        batch_op.create_check_constraint("state", _one_of("state", STATES_BEFORE))
        batch_op.drop_constraint(op.f("ck_notification_kind"), type_="check")
        batch_op.create_check_constraint("kind", _one_of("kind", KINDS_BEFORE))
        batch_op.drop_constraint(batch_op.f("fk_notification_follow_up_id_follow_up"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_notification_follow_up_id"))
        batch_op.drop_column("follow_up_id")

    op.drop_index(op.f("ix_follow_up_activity_score_follow_up_id"), table_name="follow_up_activity_score")
    op.drop_index(op.f("ix_follow_up_activity_score_activity_id"), table_name="follow_up_activity_score")
    op.drop_table("follow_up_activity_score")
    op.drop_index(op.f("ix_follow_up_activity_screening_id"), table_name="follow_up_activity")
    op.drop_table("follow_up_activity")
    op.drop_index(op.f("ix_follow_up_screening_id"), table_name="follow_up")
    op.drop_table("follow_up")

    # Plain DROP COLUMNs (SQLite 3.35+ has them), not a batch copy, which would drop the tally
    # triggers on `screening`.
    op.execute("ALTER TABLE screening DROP COLUMN follow_ups_stopped_at")
    op.execute("ALTER TABLE assessment_request DROP COLUMN follow_up_consent_at")
