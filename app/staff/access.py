"""Who may open which staff page: sign-in, second factor, time-outs and roles, enforced centrally."""

from __future__ import annotations

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user

from app import clock
from app.extensions import db, login_manager
from app.links import is_staff_address
from app.models import StaffUser

#: The only staff endpoints reachable without a full sign-in.
PUBLIC_ENDPOINTS = frozenset(
    {
        "staff_auth.sign_in",
        "staff_auth.two_factor",
        "staff_auth.enrol",
    }
)

#: Blueprints whose every route is for admins only.
ADMIN_BLUEPRINTS = frozenset({"staff_admin", "staff_privacy", "staff_rules"})

#: Session keys of a staff sign-in (cleared on sign-out and time-out).
SIGNED_IN_AT, LAST_SEEN = "staff_signed_in_at", "staff_last_seen"


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """The account behind a session, if the session is still valid (see StaffUser.get_id)."""
    try:
        account_id, version = (int(part) for part in user_id.split(":"))
    except ValueError:
        return None
    user = db.session.get(StaffUser, account_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def is_staff_endpoint(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.split(".")[0].startswith("staff")  # type: ignore[union-attr]


def guard_staff_routes() -> ResponseReturnValue | None:
    """Before every request: refuse staff pages to anyone not fully signed in, or not an admin."""
    endpoint = request.endpoint
    # An address under /staff that no page answers: a 404 or 405 follows, in the portal's layout.
    missing_page = endpoint is None and is_staff_address(request.path)
    if not (missing_page or is_staff_endpoint(endpoint)):
        return None
    if missing_page or endpoint in PUBLIC_ENDPOINTS:
        # Open to anyone, but a timed-out session must not act as signed in there either (the
        # set-up page would let it replace the account's authenticator app; a missing page would
        # show it the account's menu).
        if current_user.is_authenticated and _session_expired():
            _end_timed_out_session()
        return None
    if not current_user.is_authenticated:
        # The page asked for, to return to after signing in (Werkzeug's full_path ends in "?"
        # when there is no query).
        asked_for = request.full_path if request.query_string else request.path
        return redirect(url_for("staff_auth.sign_in", next=asked_for if request.method == "GET" else None))
    if _session_expired():
        _end_timed_out_session()
        return redirect(url_for("staff_auth.sign_in"))
    session[LAST_SEEN] = int(clock.timestamp())
    if request.blueprint in ADMIN_BLUEPRINTS and not current_user.is_admin:
        abort(403)
    return None


def _end_timed_out_session() -> None:
    logout_user()
    session.clear()
    flash("You were signed out because the session timed out. Please sign in again.", "info")


def _session_expired() -> bool:
    now = clock.timestamp()
    signed_in_at = session.get(SIGNED_IN_AT, 0)
    last_seen = session.get(LAST_SEEN, 0)
    idle_limit = current_app.config["STAFF_IDLE_MINUTES"] * 60
    absolute_limit = current_app.config["STAFF_SESSION_HOURS"] * 3600
    return now - last_seen > idle_limit or now - signed_in_at > absolute_limit


def init_app(app: Flask) -> None:
    # Flask-Login's own context processor loads the signed-in account for every page rendered,
    # even one that never names it; so the error page for a failure to load it (the database gone)
    # failed in turn, and the server answered with a bare page of its own. The proxy loads the
    # account only when a template uses it.
    login_manager.init_app(app, add_context_processor=False)
    app.context_processor(lambda: {"current_user": current_user})
    app.before_request(guard_staff_routes)
