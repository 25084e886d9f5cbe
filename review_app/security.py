"""Response headers that keep browsers strict with our pages, and trusting only our own proxy.

A handful of headers in one ``after_request`` rather than a library: what we send is fixed
(no per-view policies, no nonces), and the usual library (Flask-Talisman) also redirects to
HTTPS and rewrites cookie flags, which the TLS proxy and ``config.py`` already own.
The hook runs for every response Flask builds: pages, error pages (HTML and JSON), static
files, downloads and ``/healthz``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

#: Everything from our own origin, nothing inline, nothing framed. The templates and
#: static/*.js carry no inline script, ``style=`` attribute or ``on*=`` handler (the progress
#: bars are ``<meter>`` elements for this reason); ``data:`` images only for the empty favicon.
CONTENT_SECURITY_POLICY = "; ".join((
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
))

#: Sent on every response, whatever it is.
ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    # Addresses name requirements and filters; other sites need not learn them.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def _set_headers(response: Response) -> Response:
    """Add the security headers; keep anything other than static files out of every cache.

    Pages show requirements and people to whoever is signed in, and downloads are summaries
    and exports; a shared computer's browser cache must not keep either. Static files keep
    Flask's caching: they are the same for everyone.
    """
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    # Open data says "public" itself: the same for everyone, revalidated by its ETag.
    if request.endpoint != "static" and not response.headers.get(
            "Cache-Control", "").startswith("public"):
        response.headers["Cache-Control"] = "no-store"
    # Production only (config.py): a development server on plain http must stay reachable.
    hsts_seconds = current_app.config.get("HSTS_SECONDS")
    if hsts_seconds:
        response.headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response, and believe the configured proxies."""
    app.after_request(_set_headers)
    trust_proxies(app)


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-For/-Proto from ``TRUSTED_PROXY_HOPS`` proxies in front of us.

    With 0 (the default) they are ignored, so a client cannot make up its own address (and
    dodge the sign-in limits) when nothing in front of us sets them.
    """
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops > 0:
        # Only the client address and the scheme: a proxy that passes a client's own
        # X-Forwarded-Host through would otherwise let the client choose our host name.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=0, x_port=0, x_prefix=0)
