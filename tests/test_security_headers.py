"""Every response carries the browser-side protections, and the client address is the real one.

Pages, error pages (HTML and JSON), static files, downloads and /healthz all get a strict
Content-Security-Policy and anti-framing headers; nothing but static files may be cached; HSTS
is sent in production only. Behind the TLS proxy, ``TRUSTED_PROXY_HOPS`` decides whose
X-Forwarded-For is believed. (That the pages still work under the policy in a real browser is
tests/test_browser_csp.py.)
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import request

from review_app import create_app, security
from review_app.audit.models import AuditAction, AuditEntry
from review_app.auth.models import GlobalRole
from review_app.extensions import db
from tests.conftest import PASSWORD, login_as


@pytest.fixture
def reviewer(world, fire):
    return world.user("aigerim", reviewer_in=(fire,))


def assert_protected(response) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"


def test_a_signed_in_page_is_protected_and_never_cached(client, reviewer):
    login_as(client, reviewer)
    response = client.get("/requirements/")
    assert response.status_code == 200
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_the_sign_in_page_is_protected_too(client):
    response = client.get("/login")
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"  # it carries a CSRF token


def test_an_error_page_is_protected(client, reviewer):
    login_as(client, reviewer)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_500_page_is_protected(failing_page, client, reviewer):
    login_as(client, reviewer)
    response = client.get(failing_page)
    assert response.status_code == 500
    assert_protected(response)


def test_the_json_error_is_protected(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["error"] == "Not found"
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_a_static_file_is_protected_and_may_be_cached(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert_protected(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_a_download_is_protected_and_never_cached(client, world):
    admin = world.user("admin", role=GlobalRole.ADMIN)
    login_as(client, admin)
    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_protected(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert_protected(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_production_sends_hsts_for_a_year(database_url, redis_url, monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("REDIS_URL", redis_url)  # production refuses to start without it
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    response = app.test_client().get("/healthz")
    with app.app_context():
        db.engine.dispose()
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_policy_names_no_inline_allowance():
    assert "'unsafe-inline'" not in security.CONTENT_SECURITY_POLICY


# Real client addresses behind the TLS proxy ---------------------------------------------------

def failed_sign_in_addresses() -> list[str | None]:
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == AuditAction.SIGN_IN_FAILED).order_by(AuditEntry.id))
    return [e.ip_address for e in entries]


def test_without_trusted_proxies_a_forwarded_address_is_ignored(client, reviewer):
    """Default 0 hops: a client cannot pick its own address (and so dodge the sign-in limit)."""
    client.post("/login", data={"email": reviewer.email, "password": "guess"},
                headers={"X-Forwarded-For": "198.51.100.7"})
    assert failed_sign_in_addresses() == ["127.0.0.1"]


def test_behind_one_trusted_proxy_the_client_address_is_the_forwarded_one(app, reviewer):
    app.config["TRUSTED_PROXY_HOPS"] = 1
    security.trust_proxies(app)
    client = app.test_client()
    # The client made up the first address; our proxy appended the one it saw.
    client.post("/login", data={"email": reviewer.email, "password": "guess"},
                headers={"X-Forwarded-For": "10.0.0.1, 198.51.100.7"})
    assert failed_sign_in_addresses() == ["198.51.100.7"]


@pytest.mark.parametrize("hops, seen", [(0, "127.0.0.1 http localhost"),
                                        (1, "198.51.100.7 https localhost")])
def test_the_proxy_may_tell_the_address_and_scheme_but_not_the_host(app, hops, seen):
    @app.get("/whoami-probe")
    def probe():
        return f"{request.remote_addr} {request.scheme} {request.host}"

    app.config["TRUSTED_PROXY_HOPS"] = hops
    security.trust_proxies(app)
    response = app.test_client().get("/whoami-probe", headers={
        "X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example"})
    assert response.get_data(as_text=True) == seen


def test_the_sign_in_limit_counts_the_forwarded_address(app, world, reviewer):
    """Behind the proxy every request comes from the proxy's address: without ProxyFix the
    first guesser would lock everyone out, with it only the guesser's own address waits."""
    app.config["TRUSTED_PROXY_HOPS"] = 1
    security.trust_proxies(app)
    colleague = world.user("bolat")
    guesser, elsewhere = app.test_client(), app.test_client()
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        guesser.post("/login", data={"email": reviewer.email, "password": "guess"},
                     headers={"X-Forwarded-For": "198.51.100.7"})
    assert guesser.post("/login", data={"email": reviewer.email, "password": PASSWORD},
                        headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    assert elsewhere.post("/login", data={"email": colleague.email, "password": PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.20"}).status_code == 302
