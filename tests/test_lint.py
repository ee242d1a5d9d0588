"""The security lint gate: ruff's flake8-bandit rules over app/ and rules/, configured in pyproject.toml
(`make lint` runs every rule over the whole tree; this keeps the security part a test that can fail).

SQL is built with SQLAlchemy's expressions and bound parameters, never from strings (ASVS 1.2.4);
S608 keeps it that way. A false positive takes a per-line `# noqa: S...` saying why it is safe.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`ruff check` with the project's configuration, from the project's root (no cache written)."""
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_app_and_rules_pass_the_security_lint() -> None:
    done = ruff("app", "rules")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "source",
    [
        "db.session.execute(text(f\"SELECT * FROM screening WHERE reference = '{reference}'\"))",
        'db.session.execute(text("DELETE FROM note WHERE id = %s" % note_id))',
        "db.session.execute(text(\"UPDATE staff_user SET role = '{}'\".format(role)))",
        'db.session.execute(text("INSERT INTO audit_event (action) VALUES (\'" + action + "\')"))',
    ],
)
def test_the_gate_catches_sql_built_from_strings(source: str) -> None:
    """The configuration really selects S608 for files in app/ (a gate that cannot fail is none)."""
    done = ruff("--stdin-filename", "app/example.py", "-", stdin=source + "\n")
    assert done.returncode == 1 and "S608" in done.stdout, done.stdout + done.stderr


def test_a_bare_noqa_cannot_silence_the_gate() -> None:
    source = 'db.session.execute(text(f"SELECT * FROM screening WHERE id = {id}"))  # noqa\n'
    done = ruff("--stdin-filename", "app/example.py", "-", stdin=source)
    assert done.returncode == 1 and "PGH004" in done.stdout, done.stdout + done.stderr
