"""What the `screening_tally` triggers (migration 0013) cost PostgreSQL on the patient's writes.

They are statement-level AFTER triggers with transition tables, so they fire on every UPDATE of
`screening`, each step's save included, even when no count changes. Measured here on the
benchmark's own database, with nothing else running: the UPDATE a step's save makes and the one a
submit makes, each under EXPLAIN ANALYZE in a transaction that is rolled back, on the same drafts
with the tally triggers enabled and then disabled (ALTER TABLE ... DISABLE TRIGGER, inside that
transaction). "Execution Time" includes the AFTER triggers; "trigger" is the time PostgreSQL
reports for them alone; "with - without" also counts keeping the transition tables.

SQLite's triggers are row triggers `AFTER UPDATE OF state, outcome, review_status ... WHEN OLD.state =
'submitted' OR NEW.state = 'submitted'`: a step's save sets none of those columns, so they do not
fire on it; a submit fires one (an upsert of one count).
"""

from __future__ import annotations

import statistics
from typing import Any

import psycopg

SAMPLES = 200
TRIGGERS = ("screening_tally_insert", "screening_tally_update", "screening_tally_delete")

#: A step's save, as the app writes it (answers, their languages, language, expiry, updated_at).
SAVE = (
    "UPDATE screening SET answers = answers, answer_languages = answer_languages, language = 'en-CA', "
    "expires_at = now() + interval '7 days', updated_at = now() WHERE id = %(id)s"
)
#: A submit's conditional UPDATE (its result columns, with placeholder values).
SUBMIT = (
    "UPDATE screening SET state = 'submitted', submitted_at = now(), outcome = 'likely', outcome_rank = 3, "
    "reasons = '[]', indicators = '{}', ruleset_version = 'bench', updated_at = now() "
    "WHERE id = %(id)s AND state = 'draft'"
)


def _explain(connection: psycopg.Connection[Any], statement: str, row: int, enabled: bool) -> tuple[float, float]:
    """(execution ms, tally trigger ms) of one statement, rolled back."""
    with connection.transaction(force_rollback=True):
        if not enabled:
            for name in TRIGGERS:
                connection.execute(f"ALTER TABLE screening DISABLE TRIGGER {name}")
        found = connection.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", {"id": row}).fetchone()
    assert found is not None
    plan = found[0][0]
    trigger = sum(t["Time"] for t in plan.get("Triggers", []) if t["Trigger Name"] in TRIGGERS)
    return float(plan["Execution Time"]), float(trigger)


def measure(conninfo: str, samples: int = SAMPLES) -> dict[str, Any]:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        rows = [
            row
            for (row,) in connection.execute(
                "SELECT id FROM screening WHERE state = 'draft' ORDER BY id DESC LIMIT %s", (samples,)
            )
        ]
        found: dict[str, Any] = {"samples": len(rows)}
        for name, statement in (("save", SAVE), ("submit", SUBMIT)):
            for row in rows[:10]:  # warm the pages and the plan
                _explain(connection, statement, row, True)
            on = [_explain(connection, statement, row, True) for row in rows]
            off = [_explain(connection, statement, row, False) for row in rows]
            with_ms = statistics.median(execution for execution, _ in on)
            without_ms = statistics.median(execution for execution, _ in off)
            found[name] = {
                "with_ms": round(with_ms, 4),
                "without_ms": round(without_ms, 4),
                "trigger_ms": round(statistics.median(trigger for _, trigger in on), 4),
                "added_ms": round(with_ms - without_ms, 4),
            }
    return found
