"""A million screenings: keyset indexes for the queue and the audit trail, and the queue's counts
kept by triggers.

- `ix_screening_queue` and `ix_screening_review` follow the queue's order (outcome_rank,
  submitted_at) and end in the id, as `ix_audit_event_at_id` and `ix_audit_event_action_at_id`
  follow the audit trail's (at, id): a keyset page, the last as much as the first, is one range
  scan of an index.
- `screening_tally` holds how many submitted screenings there are per outcome and review status.
  Triggers on `screening` keep it in the same transaction as every insert, update and delete,
  whoever makes it (the app, `flask purge`, a bulk load). On PostgreSQL they are statement-level
  triggers reading the statement's transition tables: one upsert per statement, its rows applied
  in key order, so two transactions never lock two counts in opposite orders (no deadlock), and a
  purge of ten thousand rows costs one statement. SQLite has only row triggers, and one writer at
  a time.
- `ix_screening_tally` served only the counts' GROUP BY; it goes.

A later migration that rebuilds `screening` on SQLite (a batch "move and copy") drops its
triggers and must create them again (`create_tally_triggers`).

Revision ID: 0013
Revises: 0012_language
Create Date: 2026-12-12 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012_language"
branch_labels = None
depends_on = None

#: What each statement on `screening` changes in the counts: +1 for each submitted row it adds
#: (its NEW TABLE), -1 for each it removes (its OLD TABLE), summed per count, applied in key order.
_APPLY = (
    "INSERT INTO screening_tally AS tally (outcome, review_status, screenings) "
    "SELECT outcome, review_status, sum(delta) FROM ({changes}) AS change "
    "GROUP BY outcome, review_status HAVING sum(delta) <> 0 ORDER BY outcome, review_status "
    "ON CONFLICT (outcome, review_status) DO UPDATE SET screenings = tally.screenings + EXCLUDED.screenings"
)
_ADDED = "SELECT outcome, review_status, 1 AS delta FROM new_rows WHERE state = 'submitted'"
_REMOVED = "SELECT outcome, review_status, -1 AS delta FROM old_rows WHERE state = 'submitted'"

#: Trigger name -> (its statement and transition tables, the body of its function).
POSTGRESQL_TRIGGERS = {
    "screening_tally_insert": ("INSERT ON screening REFERENCING NEW TABLE AS new_rows", _APPLY.format(changes=_ADDED)),
    "screening_tally_update": (
        "UPDATE ON screening REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        _APPLY.format(changes=f"{_REMOVED} UNION ALL {_ADDED}"),
    ),
    "screening_tally_delete": (
        "DELETE ON screening REFERENCING OLD TABLE AS old_rows",
        _APPLY.format(changes=_REMOVED),
    ),
}

SQLITE_TRIGGERS = {
    "screening_tally_insert": """
        CREATE TRIGGER screening_tally_insert AFTER INSERT ON screening WHEN NEW.state = 'submitted'
        BEGIN
            INSERT INTO screening_tally (outcome, review_status, screenings)
            VALUES (NEW.outcome, NEW.review_status, 1)
            ON CONFLICT (outcome, review_status) DO UPDATE SET screenings = screenings + 1;
        END""",
    "screening_tally_update": """
        CREATE TRIGGER screening_tally_update AFTER UPDATE OF state, outcome, review_status ON screening
        WHEN OLD.state = 'submitted' OR NEW.state = 'submitted'
        BEGIN
            UPDATE screening_tally SET screenings = screenings - 1
            WHERE OLD.state = 'submitted' AND outcome = OLD.outcome AND review_status = OLD.review_status;
            INSERT INTO screening_tally (outcome, review_status, screenings)
            SELECT NEW.outcome, NEW.review_status, 1 WHERE NEW.state = 'submitted'
            ON CONFLICT (outcome, review_status) DO UPDATE SET screenings = screenings + 1;
        END""",
    "screening_tally_delete": """
        CREATE TRIGGER screening_tally_delete AFTER DELETE ON screening WHEN OLD.state = 'submitted'
        BEGIN
            UPDATE screening_tally SET screenings = screenings - 1
            WHERE outcome = OLD.outcome AND review_status = OLD.review_status;
        END""",
}


def create_tally_triggers() -> None:
    """The triggers that keep `screening_tally` exact, for the database in use."""
    if op.get_bind().dialect.name == "postgresql":
        for name, (statement, body) in POSTGRESQL_TRIGGERS.items():
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NULL; END $$"
            )
            op.execute(f"CREATE TRIGGER {name} AFTER {statement} FOR EACH STATEMENT EXECUTE FUNCTION {name}()")
    else:
        for statement in SQLITE_TRIGGERS.values():
            op.execute(statement)


def drop_tally_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON screening")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")


def upgrade() -> None:
    op.drop_index("ix_screening_queue", table_name="screening")
    op.create_index("ix_screening_queue", "screening", ["state", "outcome_rank", "submitted_at", "id"])
    op.drop_index("ix_screening_review", table_name="screening")
    op.create_index(
        "ix_screening_review", "screening", ["state", "review_status", "outcome_rank", "submitted_at", "id"]
    )
    op.drop_index("ix_screening_tally", table_name="screening")
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.create_index("ix_audit_event_at_id", "audit_event", ["at", "id"])
    op.create_index("ix_audit_event_action_at_id", "audit_event", ["action", "at", "id"])

    op.create_table(
        "screening_tally",
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("screenings", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("outcome", "review_status", name=op.f("pk_screening_tally")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # No write to `screening` between the count below and the triggers taking over (the lock
        # is held until this migration commits).
        op.execute("LOCK TABLE screening IN SHARE ROW EXCLUSIVE MODE")
    create_tally_triggers()
    op.execute(
        "INSERT INTO screening_tally (outcome, review_status, screenings) "
        "SELECT outcome, review_status, count(*) FROM screening WHERE state = 'submitted' "
        "GROUP BY outcome, review_status"
    )


def downgrade() -> None:
    drop_tally_triggers()
    op.drop_table("screening_tally")
    op.drop_index("ix_audit_event_action_at_id", table_name="audit_event")
    op.drop_index("ix_audit_event_at_id", table_name="audit_event")
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_screening_tally", "screening", ["state", "outcome", "review_status"])
    op.drop_index("ix_screening_review", table_name="screening")
    op.create_index("ix_screening_review", "screening", ["state", "review_status", "submitted_at"])
    op.drop_index("ix_screening_queue", table_name="screening")
    op.create_index("ix_screening_queue", "screening", ["state", "outcome_rank", "submitted_at"])
