"""The Overview's outcomes after treatment at a million screenings (issue 18): what each screening
with follow-ups said about the person, copied beside the follow-ups.

- `follow_up_baseline`: the screening's outcome, rule-set version and pain at screening (its
  answers to the questions marked `follow_up_baseline` in rules/data/questionnaire.yaml,
  `pain_now` and `pain_average`, in columns named as the follow-up's answers they are the
  baselines of: `current_pain`, `average_pain`), one row per screening with follow-ups;
- `follow_up_baseline_rule`: the rules that fired in it (its `reasons`), one row each;
- a trigger on `follow_up` that writes both when a screening's first follow-up is inserted,
  whatever inserts it; and the rows of the follow-ups already written;
- `ix_screening_follow_ups_stopped`: a partial index of the few screenings whose person stopped
  follow-ups (their links can no longer be answered), so that the outcomes never scan `screening`.

Why: adding the follow-ups up by joining each to its screening read the screening table (2.8 GB
at a million) row by row and parsed two JSON documents per follow-up, 40 s on PostgreSQL with
300,000 follow-ups; over these narrow tables it is one hash join (see app/staff/outcomes.py). A
submitted screening's result and answers never change, so the copy never goes stale, and it is
deleted with the screening (ON DELETE CASCADE).

Revision ID: 0016_followup_reports
Revises: 0015_followup
Create Date: 2026-12-15 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_followup_reports"
down_revision = "0015_followup"
branch_labels = None
depends_on = None

TRIGGER = "follow_up_baseline_copy"

#: PostgreSQL: write the baseline of one screening, and its fired rules when the baseline is new.
#: Whole-number answers only (a 0-10 scale); anything else is no baseline.
POSTGRESQL_WRITE = """
CREATE FUNCTION follow_up_baseline_write(screening integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO follow_up_baseline (screening_id, outcome, ruleset_version, current_pain, average_pain)
  SELECT s.id, s.outcome, s.ruleset_version,
    CASE WHEN json_typeof(s.answers -> 'pain_now') = 'number' AND (s.answers ->> 'pain_now') ~ '^-?[0-9]+$'
      THEN (s.answers ->> 'pain_now')::integer END,
    CASE WHEN json_typeof(s.answers -> 'pain_average') = 'number' AND (s.answers ->> 'pain_average') ~ '^-?[0-9]+$'
      THEN (s.answers ->> 'pain_average')::integer END
  FROM screening s WHERE s.id = screening
  ON CONFLICT (screening_id) DO NOTHING;
  IF FOUND THEN
    INSERT INTO follow_up_baseline_rule (screening_id, rule_id)
    SELECT DISTINCT s.id, e.value ->> 'rule_id'
    FROM screening s,
      json_array_elements(CASE WHEN json_typeof(s.reasons) = 'array' THEN s.reasons ELSE '[]'::json END) AS e(value)
    WHERE s.id = screening AND e.value ->> 'rule_id' IS NOT NULL;
  END IF;
END $$
"""
POSTGRESQL_TRIGGER_FUNCTION = """
CREATE FUNCTION follow_up_baseline_copy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM follow_up_baseline_write(NEW.screening_id);
  RETURN NULL;
END $$
"""
POSTGRESQL_BACKFILL = (
    "SELECT follow_up_baseline_write(screening_id) FROM (SELECT DISTINCT screening_id FROM follow_up) AS written"
)

#: SQLite: the same, as a trigger (SQLite has no functions of its own) and as a copy of the
#: screenings that already have follow-ups.
SQLITE_TRIGGER = """
CREATE TRIGGER follow_up_baseline_copy AFTER INSERT ON follow_up
WHEN NOT EXISTS (SELECT 1 FROM follow_up_baseline WHERE screening_id = NEW.screening_id)
BEGIN
  INSERT INTO follow_up_baseline (screening_id, outcome, ruleset_version, current_pain, average_pain)
  SELECT s.id, s.outcome, s.ruleset_version,
    CASE WHEN json_type(s.answers, '$.pain_now') = 'integer' THEN json_extract(s.answers, '$.pain_now') END,
    CASE WHEN json_type(s.answers, '$.pain_average') = 'integer' THEN json_extract(s.answers, '$.pain_average') END
  FROM screening s WHERE s.id = NEW.screening_id;
  INSERT OR IGNORE INTO follow_up_baseline_rule (screening_id, rule_id)
  SELECT DISTINCT s.id, json_extract(e.value, '$.rule_id') FROM screening s, json_each(s.reasons) AS e
  WHERE s.id = NEW.screening_id AND json_type(s.reasons) = 'array' AND json_extract(e.value, '$.rule_id') IS NOT NULL;
END
"""
SQLITE_BACKFILL = (
    """
    INSERT INTO follow_up_baseline (screening_id, outcome, ruleset_version, current_pain, average_pain)
    SELECT s.id, s.outcome, s.ruleset_version,
      CASE WHEN json_type(s.answers, '$.pain_now') = 'integer' THEN json_extract(s.answers, '$.pain_now') END,
      CASE WHEN json_type(s.answers, '$.pain_average') = 'integer' THEN json_extract(s.answers, '$.pain_average') END
    FROM screening s WHERE s.id IN (SELECT screening_id FROM follow_up)
    """,
    """
    INSERT OR IGNORE INTO follow_up_baseline_rule (screening_id, rule_id)
    SELECT DISTINCT s.id, json_extract(e.value, '$.rule_id') FROM screening s, json_each(s.reasons) AS e
    WHERE s.id IN (SELECT screening_id FROM follow_up) AND json_type(s.reasons) = 'array'
      AND json_extract(e.value, '$.rule_id') IS NOT NULL
    """,
)


def upgrade() -> None:
    op.create_table(
        "follow_up_baseline",
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("ruleset_version", sa.String(length=80), nullable=True),
        sa.Column("current_pain", sa.Integer(), nullable=True),
        sa.Column("average_pain", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["screening.id"],
            name=op.f("fk_follow_up_baseline_screening_id_screening"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("screening_id", name=op.f("pk_follow_up_baseline")),
    )
    op.create_table(
        "follow_up_baseline_rule",
        sa.Column("screening_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["screening_id"],
            ["follow_up_baseline.screening_id"],
            name=op.f("fk_follow_up_baseline_rule_screening_id_follow_up_baseline"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("screening_id", "rule_id", name=op.f("pk_follow_up_baseline_rule")),
    )
    op.create_index(
        "ix_screening_follow_ups_stopped",
        "screening",
        ["id"],
        postgresql_where=sa.text("follow_ups_stopped_at IS NOT NULL"),
        sqlite_where=sa.text("follow_ups_stopped_at IS NOT NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # No follow-up written between the copy below and the trigger taking over (the lock is
        # held until this migration commits).
        op.execute("LOCK TABLE follow_up IN SHARE ROW EXCLUSIVE MODE")
        op.execute(POSTGRESQL_WRITE)
        op.execute(POSTGRESQL_TRIGGER_FUNCTION)
        op.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON follow_up FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()")
        op.execute(POSTGRESQL_BACKFILL)
    else:
        op.execute(SQLITE_TRIGGER)
        for statement in SQLITE_BACKFILL:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON follow_up")
        op.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
        op.execute("DROP FUNCTION IF EXISTS follow_up_baseline_write(integer)")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    op.drop_table("follow_up_baseline_rule")
    op.drop_table("follow_up_baseline")
    op.drop_index("ix_screening_follow_ups_stopped", table_name="screening")
