"""Security headers on every response, and caching rules for personal pages."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import request

#: no inline script, no inline style, nothing from elsewhere, never framed
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: pages anyone may keep in a cache: the public notices and static files
CACHEABLE_BLUEPRINTS = {"public"}


def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static" and request.blueprint not in CACHEABLE_BLUEPRINTS:
        headers.setdefault("Cache-Control", "no-store")  # personal data: never kept by a browser or proxy
    return response


def no_wait_on_success(response: Response) -> Response:
    """The rate limiter names a wait (Retry-After) on every answer; it means something only on a refusal.
    Registered before the limiter, so that it runs after the limiter's own headers are set."""
    if response.status_code < 400:
        response.headers.pop("Retry-After", None)
    return response


def register(app: Flask) -> None:
    app.after_request(security_headers)
