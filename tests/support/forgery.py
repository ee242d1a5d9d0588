"""Posts a forger's page could make: a form's data without a valid CSRF token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: What a forged post can carry in place of the CSRF token: none at all, an empty one, a made-up one.
FORGED_TOKENS: tuple[str | None, ...] = (None, "", "forged-token")


def with_csrf_token(data: Mapping[str, Any], token: str | None) -> dict[str, Any]:
    """`data` with `token` as its CSRF token, or with no token field at all when `token` is None."""
    return dict(data) if token is None else {**data, "csrf_token": token}
