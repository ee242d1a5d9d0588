"""gunicorn settings for production (`make serve`). Each can be overridden by its environment
variable, e.g. GUNICORN_WORKERS=8, or in the settings file (deploy/ims-screen.env.example).

Sync workers, as gunicorn recommends behind a buffering reverse proxy (nginx): requests are
short, and the database, not the CPU, is the bottleneck.
"""

import importlib.util
import multiprocessing
import os

from gunicorn.glogging import Logger


def _load_app_module(name: str):  # type: ignore[no-untyped-def]
    """app/<name>.py, loaded by its file: importing it as `app.<name>` would import the app
    package into the master, and every worker would then inherit that code instead of importing
    it afresh (so a reload by SIGHUP would keep running the old code). Only for modules that
    import nothing of the app's."""
    package = importlib.util.find_spec("app")  # found where wsgi:app will be, and not imported
    assert package is not None and package.submodule_search_locations
    path = os.path.join(package.submodule_search_locations[0], f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"ims_screen_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# HOST, PORT and the GUNICORN_* settings below may come from the same settings file as the app's.
_load_app_module("environment_file").load()

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

#: gunicorn's rule of thumb, (2 x cores) + 1: a worker waiting on the database leaves a core free.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

#: A worker silent for this long is killed and replaced (a stuck request cannot hold it forever).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
#: On SIGTERM, requests already accepted get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5

#: Recycle workers now and then (with jitter, so they do not all restart at once), which keeps
#: memory flat even if a library leaks.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))

#: No control socket (gunicorn 25+ opens one in $HOME for `gunicornc`): signals already cover
#: reload and shutdown, and a second management channel is one more thing to secure.
control_socket_disable = True

#: The app is imported once per worker, after the fork: no database connection (and no SQLite
#: file handle) is ever shared across processes.
preload_app = False


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """Parse and check the rules as each worker starts, before it takes a request: otherwise the
    first submission on every new (or recycled) worker waits for it. And let a long export tell
    the master this worker is alive while it streams (app/heartbeat.py): imported here, in the
    worker, which has just loaded the app; never in the master."""
    import rules
    from app import heartbeat

    rules.prepare()
    heartbeat.install(worker)


redaction = _load_app_module("redaction")


class RedactingLogger(Logger):
    """Logs without resume tokens: a logged /resume/<token> would open someone's answers.

    Every access-log atom (path, request line, headers such as Referer) and every error-log
    line (gunicorn's "Error handling request <uri>" among them) goes through app/redaction.py.
    """

    def setup(self, cfg):  # type: ignore[no-untyped-def]
        super().setup(cfg)  # which replaces the handlers, on start and on every reload
        redaction.install(self.error_log, self.access_log)

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        return {name: redaction.redact(value) if isinstance(value, str) else value for name, value in atoms.items()}


logger_class = RedactingLogger
#: Paths (never query strings) and status codes only: no health data is ever in a URL.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
