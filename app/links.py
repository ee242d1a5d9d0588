"""Addresses of the app: absolute links for the patient's resume link and the portal links in
emails, and where the staff portal's pages are.

Built from PUBLIC_BASE_URL, never from the request's Host header: a request sent with
`Host: evil.example` must not make the page show, or an email carry, a link to another site.
"""

from flask import current_app

#: Where the staff portal's pages are: every blueprint of the portal is mounted under it.
STAFF_PREFIX = "/staff"


def public_url(path: str) -> str:
    """The public address of `path` (a path on this app, such as `url_for(...)` returns)."""
    assert path.startswith("/"), path
    base: str = current_app.config["PUBLIC_BASE_URL"]
    return base.rstrip("/") + path


def is_staff_address(path: str) -> bool:
    """Whether `path` is one of the staff portal's (so its pages, and its error pages, are the
    portal's: in English, in the portal's layout)."""
    return path == STAFF_PREFIX or path.startswith(STAFF_PREFIX + "/")
