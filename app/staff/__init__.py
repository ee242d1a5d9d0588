"""The staff portal at /staff/: sign-in, the triage queue, screenings, reports and accounts.

Every /staff/ route requires a signed-in account unless `access.PUBLIC_ENDPOINTS` names it,
and the admin blueprints refuse anyone but admins: access is closed by default, so a new route
that forgets a decorator is still protected (tests/test_staff_access.py walks the URL map).
"""

from __future__ import annotations

from flask import Flask

from app.staff import access, admin, auth, explain, governance, interop, privacy, queue, reports


def init_app(app: Flask) -> None:
    """Register the staff blueprints and the access rules that guard them."""
    access.init_app(app)
    explain.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(governance.bp)
    interop.init_app(app)
