"""Error pages: a plain-language page for people, JSON for machine endpoints, never a traceback."""

from typing import NamedTuple

from flask import Flask, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException, SecurityError, ServiceUnavailable

from app.links import is_staff_address


class ErrorPage(NamedTuple):
    """What a person is told when a request fails: in the patient's language on a patient's page
    (lazy strings, read in the request's language), in English on a staff page."""

    title: str
    message: str


ERROR_PAGES = {
    400: ErrorPage(
        _l("Something was wrong with that request"),
        _l("The page could not use what your browser sent. Please go back and try again."),
    ),
    403: ErrorPage(
        _l("You can't open this page"),
        _l("You don't have permission to see this page."),
    ),
    404: ErrorPage(
        _l("Page not found"),
        _l("There is no page at this address. Check the address, or go back to the start."),
    ),
    405: ErrorPage(
        _l("This page can't be used that way"),
        _l("Please go back to the start and follow the links from there."),
    ),
    413: ErrorPage(
        _l("What you sent was too long"),
        _l(
            "Nothing was saved, because what your browser sent was far longer than any answer needs to be. "
            "Please go back, shorten what you typed, and try again."
        ),
    ),
    429: ErrorPage(
        _l("Too many requests"),
        # The limits count over 10 (patients) or 15 minutes (staff sign-in): "a minute" was too soon.
        _l(
            "There were too many requests from your connection in a short time. Nothing from this "
            "last request was saved. Please wait 15 minutes, then try again."
        ),
    ),
    500: ErrorPage(
        _l("Something went wrong on our side"),
        _l("The problem has been logged. Please try again in a few minutes."),
    ),
    503: ErrorPage(
        _l("This page is not available just now"),
        _l("Nothing you sent has been saved or changed. Please try again in a minute or two."),
    ),
}

#: The patients' words that send them back to their start page, as staff read them (their start is
#: the queue).
STAFF_MESSAGES = {
    404: "There is no page at this address. Check the address, or go to the queue.",
    405: "Go back to the queue and follow the links from there.",
}

#: Seconds a client is told to wait when the rate-limit store is unreachable.
RETRY_AFTER_STORAGE_ERROR = 30

#: Endpoints read by programs rather than people; their errors are JSON.
JSON_PATHS = ("/healthz",)


def init_app(app: Flask) -> None:
    """Register one handler for every status code in ERROR_PAGES, and the refusal of a query
    string that cannot be read (before any other hook reads it)."""
    app.before_request(refuse_undecodable_query)
    for code in ERROR_PAGES:
        app.register_error_handler(code, handle_http_error)
    app.register_error_handler(StorageError, refuse_without_rate_limits)
    app.register_error_handler(SecurityError, refuse_unknown_host)


def refuse_undecodable_query() -> None:  # a before_request handler
    """400 for a query string that is not UTF-8: Werkzeug cannot decode it, wherever `request.args`
    is read, and the request ended in a 500. Only raw bytes do this (percent-encoded ones are
    read), and only the development server lets them through: gunicorn refuses such a request
    line itself."""
    try:
        request.query_string.decode()
    except UnicodeDecodeError:
        abort(400)


def refuse_unknown_host(error: SecurityError) -> ResponseReturnValue:
    """400 for a Host header outside TRUSTED_HOSTS, as a page of its own.

    Flask cannot build this app's URLs for such a request (no URL adapter), so the usual error
    page, whose layout links the stylesheet, cannot be rendered; nor should a page answer an
    unknown host with links at all.
    """
    # No path in the line: it may be a resume link, which opens someone's answers.
    current_app.logger.warning("Refused a %s request for a host outside TRUSTED_HOSTS", request.method)
    return render_template("errors/unknown_host.html"), 400


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    """Render `error` as a page (or JSON), keeping headers such as Allow and Retry-After."""
    # Flask hands unhandled exceptions to the 500 handler as an InternalServerError wrapping
    # them, so the original exception and its text never reach this response.
    if isinstance(getattr(error, "original_exception", None), StorageError):
        # The store failed after the view ran (counting a failed attempt): still refused.
        return refuse_without_rate_limits(error.original_exception)  # type: ignore[attr-defined]
    code = error.code or 500
    page = ERROR_PAGES[code]
    headers = [(name, value) for name, value in error.get_headers() if name != "Content-Type"]
    if request.path in JSON_PATHS:
        return {"status": "error", "error": error.name}, code, headers
    if is_staff_address(request.path):
        # The portal's own pages, in words for staff: a body too large names its limit and the
        # way back to the form (the patients' page tells them to shorten what they typed).
        if code == 413:
            return render_template("staff/too_large.html", **staff_too_large()), code, headers
        page = page._replace(message=STAFF_MESSAGES.get(code, page.message))
        return render_template("staff/error.html", code=code, page=page), code, headers
    return render_template("errors/error.html", code=code, page=page), code, headers


def staff_too_large() -> dict[str, object]:
    """What the staff page for a 413 says: the bound this request had, in words (for the import,
    its own, `app.staff.interop.IMPORT_MAX_BYTES`, set before the body was read), whether it was a
    file that was too large, and the way back to the form (its page, when the same address shows
    it; the queue otherwise)."""
    rule = request.url_rule
    if rule is not None and request.endpoint and "GET" in (rule.methods or ()):
        back = url_for(request.endpoint, **(request.view_args or {}))
    else:
        back = url_for("staff.queue")
    return {
        "limit": size_text(request.max_content_length or current_app.config["MAX_CONTENT_LENGTH"]),
        "file": request.mimetype == "multipart/form-data",
        "back": back,
    }


def size_text(size: int) -> str:
    """A number of bytes as staff read a file's size: "512 KiB", "5 MiB", "1,500 bytes"."""
    for unit, bytes_in_unit in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= bytes_in_unit and size % bytes_in_unit == 0:
            return f"{size // bytes_in_unit} {unit}"
    return f"{size:,} bytes"


def refuse_without_rate_limits(error: StorageError) -> ResponseReturnValue:
    """Fail closed when the rate-limit store (Redis) is unreachable: 503, never an unlimited try.

    Only the staff limits reach here: sign-in and its second step (ASVS 16.5.3). The patients'
    limit is on its own Limiter, which logs the error and lets the post through (fails open), so
    patients carry on. The log names the path, never a form value.
    """
    current_app.logger.error(
        "Rate-limit storage unreachable (%s): refused %s %s",
        type(error.storage_error).__name__,
        request.method,
        request.path,
    )
    return handle_http_error(ServiceUnavailable(retry_after=RETRY_AFTER_STORAGE_ERROR))
