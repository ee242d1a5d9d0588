"""Fingerprinted static files: every link to one carries `?v=<hash of its content>`.

A linked copy therefore never changes, and browsers (and nginx, deploy/nginx.conf) may keep it for
a year; a new release links to new hashes, so nobody is served yesterday's stylesheet.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, request

#: A year, the longest lifetime caches honour.
IMMUTABLE = "public, max-age=31536000, immutable"


@lru_cache(maxsize=256)
def _digest(path: str, _modified: int) -> str:
    """The first 12 hex digits of the file's SHA-256 (cached until the file changes)."""
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def fingerprint(filename: str) -> str | None:
    """The fingerprint of a static file, or None if there is no such file."""
    static_folder = current_app.static_folder
    assert static_folder is not None
    path = os.path.join(static_folder, filename)
    try:
        return _digest(path, os.stat(path).st_mtime_ns)
    except OSError:
        return None


def _add_fingerprint(endpoint: str | None, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        digest = fingerprint(values["filename"])
        if digest is not None:
            values["v"] = digest


def _cache_fingerprinted(response: Response) -> Response:
    """A static file asked for by its current fingerprint may be kept; any other must be re-checked."""
    if request.endpoint == "static" and response.status_code == 200:
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == fingerprint(filename):
            response.headers["Cache-Control"] = IMMUTABLE
    return response


def init_app(app: Flask) -> None:
    app.url_defaults(_add_fingerprint)
    app.after_request(_cache_fingerprinted)
