"""The one settings file that gunicorn, `make serve` and every `flask` command read.

Without it, an administrator who typed `flask --app wsgi create-staff` in a shell that lacked the
production variables got "Created admin account" on a development SQLite file while production
ran on PostgreSQL. Every entry point (wsgi.py, and gunicorn.conf.py for gunicorn's own settings)
calls `load` first, so they cannot disagree about the database.

The file is `IMS_ENV_FILE` when that is set (it must then exist), otherwise
`/etc/ims-screen/ims-screen.env` when it exists (deploy/ims-screen.env.example shows one). A
variable already in the process environment wins over the file, so a one-off override such as
`PORT=8001 make serve` still works. On a development machine there is usually no file at all.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from dotenv import dotenv_values

#: Where the systemd units and the README's Deployment section put the settings.
DEFAULT_PATH = Path("/etc/ims-screen/ims-screen.env")

#: Names the file explicitly; empty means "no file", which the tests use.
VARIABLE = "IMS_ENV_FILE"


class EnvironmentFileError(RuntimeError):
    """`IMS_ENV_FILE` names a file that cannot be read."""


def path_to_load(environ: MutableMapping[str, str]) -> Path | None:
    """The settings file this process should read, or None."""
    named = environ.get(VARIABLE)
    if named is not None:
        if not named:
            return None
        path = Path(named)
        if not path.is_file():
            # A typo here must stop the command, not fall back to development defaults.
            raise EnvironmentFileError(f"{VARIABLE} is {named!r}, which is not a readable file.")
        return path
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """Copy the file's settings into `environ` (never over a variable already set); return its path."""
    path = path_to_load(environ)
    if path is None:
        return None
    for name, value in dotenv_values(path).items():
        if value is not None:
            environ.setdefault(name, value)
    # Remembered, so that commands can say where their settings came from.
    environ.setdefault(VARIABLE, str(path))
    return path
