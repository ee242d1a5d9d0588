"""HTTP response headers that keep health data out of caches, referrers and other sites' frames."""

from __future__ import annotations

from flask import Flask, Response, request

#: Everything comes from this app: no inline script or style, no plugins, no framing, no
#: <base> rewriting, forms post only here (quality-bar.md items 18 and 32).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])


def set_security_headers(response: Response) -> Response:
    """Add the security headers to every response."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Resume links carry a token in their path; no other site may ever see a URL of ours.
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        # Pages show health answers; neither the browser nor a proxy may keep a copy, unless
        # the view said otherwise (a generated stylesheet, say).
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Register the headers on every response, errors included."""
    app.after_request(set_security_headers)
    if app.config.get("IMS_ENV") == "production":
        app.after_request(_strict_transport_security)


def _strict_transport_security(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
