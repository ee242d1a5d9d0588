"""Absolute links to the app, for the patient's resume link and the portal links in emails.

Built from PUBLIC_BASE_URL, never from the request's Host header: a request sent with
`Host: evil.example` must not make the page show, or an email carry, a link to another site.
"""

from flask import current_app


def public_url(path: str) -> str:
    """The public address of `path` (a path on this app, such as `url_for(...)` returns)."""
    assert path.startswith("/"), path
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base.rstrip("/") + path
