"""IMS Screen: the web application around the clinical rules in `rules/`."""

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import StrictUndefined
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.urls import iri_to_uri
from werkzeug.wrappers import Response

from app import crypto, redaction
from app.config import config_from_env
from app.extensions import csrf, db, limiter, migrate, patient_limiter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ImsScreen(Flask):
    """Flask, with redirects that carry no body."""

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect without Werkzeug's "Redirecting..." page, which no browser shows: each
        question answered is a redirect, and those pages were 4 kB of a journey's 42 on a
        repeat visit (issue #16; too small for the proxy to compress)."""
        response = self.response_class(status=code)
        response.headers["Location"] = iri_to_uri(location)
        return response


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and wire the application; `test_config` overrides the environment's settings."""
    # Templates sit at the top level, beside `rules/` and `migrations/`.
    app = ImsScreen(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.config.from_mapping(config_from_env(os.environ, app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)

    # A misspelt name in a template must fail loudly in the tests, not render as nothing: a
    # result page silently missing its headline could hide "call 911".
    app.jinja_env.undefined = StrictUndefined

    if app.config["IMS_ENV"] == "development" and not logging.getLogger().handlers:
        # Development shows the app's own messages (e.g. emails not sent) on the console. Log
        # lines never carry answers or contact details, only references and counts.
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)

    # No resume token in any log line: not in Flask's "Exception on <path>" nor a traceback.
    # gunicorn's own loggers get the same filter from gunicorn.conf.py.
    redaction.install(app.logger, logging.getLogger(), logging.getLogger("werkzeug"))

    # The default SQLite database lives in the instance folder, which a fresh clone lacks.
    os.makedirs(app.instance_path, exist_ok=True)

    if app.config["TRUSTED_PROXIES"]:
        # Behind nginx (or a load balancer) the client's address, scheme and host arrive in
        # X-Forwarded-* headers; trust exactly as many hops as there are proxies, no more, or
        # anyone could forge their address (and so dodge the per-address rate limits).
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    crypto.init_app(app)
    db.init_app(app)
    # An absolute directory, so `flask db` and the tests work from any working directory.
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    # Before CSRFProtect, whose check runs first otherwise: a flood of posts without a valid
    # token (or too large to read) counts towards the patients' limit too.
    patient_limiter.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    # Imported inside the factory, as in Flask's tutorial, so that these modules can import from
    # the `app` package without a circular import.
    from app import assets, cli, display, errors, fhir_public, health, i18n, patient, security, staff

    app.register_blueprint(health.bp)
    app.register_blueprint(fhir_public.bp)
    # First of the hooks that read the request's query (the language links read it first).
    errors.init_app(app)
    i18n.init_app(app)
    patient.init_app(app)
    staff.init_app(app)
    display.init_app(app)
    security.init_app(app)
    assets.init_app(app)
    cli.init_app(app)
    return app
