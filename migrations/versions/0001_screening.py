"""Create the screening table.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 00:50:51.985543
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The value lists are copied, not imported from app.models: a migration records the schema
    # as it was at this revision, and must not change when the models do.
    op.create_table(
        "screening",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("resume_token_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("candidacy", sa.String(length=20), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=True),
        sa.Column("indicators", sa.JSON(), nullable=True),
        sa.Column("ruleset_version", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('draft', 'submitted')", name=op.f("ck_screening_state")),
        sa.CheckConstraint(
            "outcome IN ('emergency', 'see_doctor', 'not_suitable', 'clinician_review',"
            " 'likely', 'possible', 'unlikely')",
            name=op.f("ck_screening_outcome"),
        ),
        sa.CheckConstraint(
            "candidacy IN ('likely', 'possible', 'unlikely')",
            name=op.f("ck_screening_candidacy"),
        ),
        sa.CheckConstraint(
            "state <> 'submitted' OR (outcome IS NOT NULL AND reasons IS NOT NULL"
            " AND indicators IS NOT NULL AND ruleset_version IS NOT NULL"
            " AND submitted_at IS NOT NULL)",
            name=op.f("ck_screening_submitted_has_result"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screening")),
        sa.UniqueConstraint("reference", name=op.f("uq_screening_reference")),
        sa.UniqueConstraint("resume_token_hash", name=op.f("uq_screening_resume_token_hash")),
    )
    op.create_index("ix_screening_triage", "screening", ["state", "outcome", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_screening_triage", table_name="screening")
    op.drop_table("screening")
