"""HTTP response headers that keep health data out of caches, referrers and other sites' frames,
and the check that every form post comes from this site's own pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFError

#: Methods that change nothing, so a request from another site can do no harm with them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

#: Everything comes from this app: no inline script or style, no plugins, no framing, no
#: <base> rewriting, forms post only here (docs/security.md, items 18 and 32).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def set_security_headers(response: Response) -> Response:
    """Add the security headers to every response."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Resume links carry a token in their path, so no other site may ever see a URL of ours; but
    # our own pages must send one to us: with "no-referrer" the browser sends neither a Referer
    # nor a real Origin on a form post, and over HTTPS every post was refused as cross-site.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        # Pages show health answers; neither the browser nor a proxy may keep a copy, unless
        # the view said otherwise (a generated stylesheet, say).
        headers.setdefault("Cache-Control", "no-store")
    return response


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, as browsers compare origins."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


#: The only endpoints another site's server may post to: RFC 8058's one-click unsubscribe, which a
#: mail program posts from its own servers, with neither Origin nor CSRF token (Flask-WTF exempts
#: it too, app/patient/followup.py). The secret token in its path is what it checks; all a post
#: can do is stop follow-up emails, and doing it twice is the same as once.
CROSS_SITE_POST_ENDPOINTS = frozenset({"patient.stop_follow_ups_one_click"})


def refuse_cross_site_posts() -> None:
    """Refuse a form post that another site's page sent (CSRF), before the view runs.

    Flask-WTF's token is the main defence; this is its second half, replacing Flask-WTF's strict
    Referer check, which compares with the request's Host header and so fails behind a proxy that
    forwards its upstream address. The browser's Origin header (or, failing that, the Referer)
    must be the app's public origin (PUBLIC_BASE_URL) or the origin the request itself reached.
    Over HTTPS a post that carries neither is refused, as Flask-WTF does; over plain http (a
    development machine, scripts) it is allowed, with the token still required.
    """
    if request.method in SAFE_METHODS or request.endpoint in CROSS_SITE_POST_ENDPOINTS:
        return
    source = request.headers.get("Origin") or request.referrer
    if source is None or source == "null":
        if request.is_secure:
            raise CSRFError("The request did not say which page sent it.")
        return
    allowed = {origin_of(current_app.config["PUBLIC_BASE_URL"]), origin_of(request.host_url)}
    if origin_of(source) not in allowed:
        raise CSRFError("The request was sent from another site.")


def init_app(app: Flask) -> None:
    """Check where posts come from; add the headers to every response, errors included."""
    app.before_request(refuse_cross_site_posts)
    app.after_request(set_security_headers)
    if app.config.get("IMS_ENV") == "production":
        app.after_request(_strict_transport_security)


def _strict_transport_security(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
