"""Signing in and out: passwords, deactivated accounts, safe redirects, real logout, CSRF."""

import logging

import pytest

from review_app.extensions import db
from tests.conftest import PASSWORD, login_as, page_text

WRONG = "Wrong email or password, or the account is deactivated."


@pytest.fixture
def reviewer(world):
    return world.user("aigerim", reviewer_in=(world.area("07"),))


def test_sign_in_lands_on_the_requirements(client, reviewer):
    response = login_as(client, reviewer)
    assert response.status_code == 302
    assert response.location == "/requirements/"
    assert client.get("/requirements/").status_code == 200


def test_email_is_case_insensitive(client, reviewer):
    response = client.post("/login", data={"email": "AIGERIM@Example.KZ", "password": PASSWORD})
    assert response.status_code == 302


def test_password_is_stored_hashed_and_salted(world):
    a = world.user("one")
    b = world.user("two")
    assert PASSWORD not in a.password_hash
    assert a.password_hash != b.password_hash


def test_unknown_user_and_wrong_password_get_the_same_answer(client, reviewer):
    wrong_password = client.post("/login", data={"email": reviewer.email, "password": "nope"})
    unknown = client.post("/login", data={"email": "nobody@example.kz", "password": "nope"})
    assert wrong_password.status_code == unknown.status_code == 401
    assert WRONG in page_text(wrong_password) and WRONG in page_text(unknown)


def test_deactivated_user_cannot_sign_in(client, world):
    user = world.user("former", active=False)
    response = login_as(client, user)
    assert response.status_code == 401
    assert WRONG in page_text(response)
    assert client.get("/requirements/").status_code == 302


def test_deactivation_ends_open_sessions(client, reviewer):
    login_as(client, reviewer)
    assert client.get("/requirements/").status_code == 200
    reviewer.active = False
    db.session.commit()
    response = client.get("/requirements/")
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example", "////evil.example", "https://evil.example",
                                    "/\\evil.example", "http:/evil.example", " //evil.example",
                                    "javascript:alert(1)", "/%09/evil.example"])
def test_next_only_leads_to_this_site(client, reviewer, target):
    response = client.post("/login", data={"email": reviewer.email, "password": PASSWORD,
                                           "next": target})
    assert response.status_code == 302
    assert response.location.startswith("/")
    assert not response.location.startswith("//")
    assert "evil" not in response.location.split("?")[0] or response.location == target


def test_next_within_the_site_is_followed(client, reviewer):
    response = client.post("/login", data={"email": reviewer.email, "password": PASSWORD,
                                           "next": "/requirements/?state=proposed"})
    assert response.location == "/requirements/?state=proposed"


def test_login_page_carries_next_from_the_redirect(client, reviewer):
    response = client.get("/requirements/?area=07")
    assert response.status_code == 302
    login_page = client.get(response.location)
    assert 'value="/requirements/?area=07"' in login_page.get_data(as_text=True)


def test_logout_really_ends_the_session(client, reviewer):
    login_as(client, reviewer)
    with client.session_transaction() as session:
        stolen = dict(session)
    assert client.post("/logout", data={}).status_code == 302
    assert client.get("/requirements/").status_code == 302
    # Someone who kept a copy of the old session cookie gets nowhere either.
    with client.session_transaction() as session:
        session.update(stolen)
    assert client.get("/requirements/").status_code == 302


def test_logout_needs_post_with_csrf(client, reviewer):
    login_as(client, reviewer)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={}, no_csrf=True).status_code == 400
    assert client.get("/requirements/").status_code == 200


def test_login_form_without_csrf_token_is_refused(client, reviewer):
    response = client.post("/login", data={"email": reviewer.email, "password": PASSWORD},
                           no_csrf=True)
    assert response.status_code == 400
    assert "form expired" in page_text(response)


def test_repeated_failures_are_rate_limited(client, app, reviewer):
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        client.post("/login", data={"email": reviewer.email, "password": "guess"})
    response = client.post("/login", data={"email": reviewer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in page_text(response)


def test_failed_sign_in_is_logged(client, reviewer, caplog):
    with caplog.at_level(logging.WARNING, logger="review_app.auth"):
        client.post("/login", data={"email": reviewer.email, "password": "guess"})
    assert "failed sign-in: aigerim@example.kz" in caplog.text


def test_signed_in_user_visiting_login_goes_to_the_list(client, reviewer):
    login_as(client, reviewer)
    assert client.get("/login").location == "/requirements/"


def test_empty_login_form_names_the_fields(client):
    response = client.post("/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert "This field is required" in page_text(response)
