"""The one settings file read by gunicorn, `make serve` and every `flask` command."""

import subprocess
import sys
from pathlib import Path

import pytest

from app import environment_file
from app.environment_file import EnvironmentFileError

ROOT = Path(__file__).resolve().parents[1]


def test_the_named_file_fills_in_what_the_environment_lacks(tmp_path: Path) -> None:
    settings = tmp_path / "ims-screen.env"
    settings.write_text(
        "# a comment\nDATABASE_URL=postgresql://ims_app@db/ims\nPORT=8000\nCLINIC_NAME='Fraser Physio'\n"
    )
    environ = {environment_file.VARIABLE: str(settings), "PORT": "8001"}
    assert environment_file.load(environ) == settings
    assert environ["DATABASE_URL"] == "postgresql://ims_app@db/ims"
    assert environ["CLINIC_NAME"] == "Fraser Physio"
    assert environ["PORT"] == "8001"  # what the shell says wins: `PORT=8001 make serve` still works


def test_a_named_file_that_is_missing_stops_the_command(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentFileError, match="not a readable file"):
        environment_file.load({environment_file.VARIABLE: str(tmp_path / "missing.env")})


def test_an_empty_name_means_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = tmp_path / "default.env"
    default.write_text("IMS_ENV=production\n")
    monkeypatch.setattr(environment_file, "DEFAULT_PATH", default)
    environ = {environment_file.VARIABLE: ""}
    assert environment_file.load(environ) is None
    assert "IMS_ENV" not in environ


def test_without_a_name_the_system_file_is_read_when_it_exists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = tmp_path / "ims-screen.env"
    monkeypatch.setattr(environment_file, "DEFAULT_PATH", default)
    assert environment_file.load({}) is None
    default.write_text("IMS_ENV=production\n")
    environ: dict[str, str] = {}
    assert environment_file.load(environ) == default
    assert environ == {"IMS_ENV": "production", environment_file.VARIABLE: str(default)}


def flask(settings: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`flask --app wsgi ...` with nothing in its environment but the settings file."""
    return subprocess.run(
        [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", *args],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "IMS_ENV_FILE": str(settings)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_commands_act_on_the_database_the_settings_file_names(tmp_path: Path) -> None:
    """The finding: create-staff said "Created admin account" on a development SQLite file."""
    database = tmp_path / "from-the-settings-file.sqlite3"
    settings = tmp_path / "ims-screen.env"
    settings.write_text(
        f"DATABASE_URL=sqlite:///{database}\nENCRYPTION_KEYS=x5PRV0dIcjJDlS0sJjYoUhKh9Nt3wLzvyVdpx8YQ6Ng=\n"
    )
    migrated = flask(settings, "db", "upgrade")
    assert migrated.returncode == 0, migrated.stderr
    created = flask(
        settings,
        "create-staff",
        "--email",
        "dana@clinic.example",
        "--name",
        "Dana",
        "--role",
        "admin",
        "--password-stdin",
        stdin="correct horse battery staple\n",
    )
    assert created.returncode == 0, created.stderr
    assert f"Database: sqlite:///{database} (development; settings from {settings})" in created.stderr
    listed = flask(settings, "list-staff")
    assert "dana@clinic.example" in listed.stdout
    assert database.exists()


def test_commands_never_print_the_database_password(tmp_path: Path) -> None:
    from app import create_app
    from app.cli import database_description

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://ims_app:hunter2-secret@db.internal/ims"})
    said = database_description(app)
    assert "hunter2-secret" not in said
    assert "postgresql+psycopg://ims_app:***@db.internal/ims" in said
