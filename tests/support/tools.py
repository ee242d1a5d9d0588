"""Tools the tests start (PostgreSQL, Redis, Chromium, nginx): found, or the test skipped.

On CI (`CI` set) a missing tool fails the test instead: `.ci/run` installs every one of them, so a
green CI run has run every test, never quietly skipped the PostgreSQL or browser half of them.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest


def missing(what: str, package: str, needed_for: str) -> NoReturn:
    """Skip the test that needs `what` (or fail it on CI), saying which Debian package brings it."""
    reason = f"{what} is not installed"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, but CI must {needed_for} (.ci/run installs {package}).", pytrace=False)
    pytest.skip(f"{reason}; install it (apt-get install {package}) to {needed_for}.")


def require(binary: str, package: str, needed_for: str) -> str:
    """The path of `binary` (a name on PATH, or a path), or skip the test as `missing` says."""
    path = shutil.which(binary) or (binary if os.path.exists(binary) else None)
    if path is None:
        missing(binary, package, needed_for)
    return path
