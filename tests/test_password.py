"""People choose their own password: change it at will, and must replace one an admin gave them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry
from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from tests.browser_support import (
    IN_CI,
    MISSING,
    sign_in,
)
from tests.conftest import PASSWORD, login_as, page_text
from tests.test_admin import shown_password, user_form

NEW = "blue kettle on the roof"
FORCED = "Choose your own password before you continue."


@pytest.fixture
def aigerim(world):
    user = world.user("aigerim", reviewer_in=(world.area("07"),))
    user.display_name = "Aigerim Nurlanova"
    db.session.commit()
    return user


def change(client, current: str = PASSWORD, new: str = NEW, again: str | None = None,
           **extra):
    """Fill in and send the password page's form."""
    return client.post("/account/password", data={
        "current_password": current, "new_password": new,
        "new_password_again": new if again is None else again, **extra})


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def error_next_to(response, field_id: str) -> str:
    """The error shown right under the field ``field_id``, or '' if none."""
    match = re.search(rf'<input[^>]*id="{field_id}"[^>]*>\s*<p class="field-error"[^>]*>([^<]+)<',
                      response.get_data(as_text=True))
    return match.group(1) if match else ""


def changes_recorded() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "password_changed")))


def test_a_changed_password_signs_in_and_the_old_one_does_not(client, app, aigerim):
    login_as(client, aigerim)
    assert client.get("/account/password").status_code == 200
    response = change(client)
    assert response.status_code == 302 and response.location == "/requirements/"
    assert "Your password is changed" in page_text(client.get(response.location))
    user = fresh(aigerim)
    assert user.check_password(NEW) and user.password_changed_at is not None
    assert user.must_change_password is False

    other = app.test_client()
    assert other.post("/login", data={"email": aigerim.email,
                                      "password": PASSWORD}).status_code == 401
    assert other.post("/login", data={"email": aigerim.email,
                                      "password": NEW}).status_code == 302


@pytest.mark.parametrize(("current", "new", "again", "field", "message"), [
    ("", NEW, NEW, "current_password", "Enter your current password."),
    (PASSWORD, "", "", "new_password", "Enter a new password."),
    (PASSWORD, "short one", "short one", "new_password",
     "The new password is too short: use at least 10 characters."),
    (PASSWORD, "x" * 201, "x" * 201, "new_password",
     "The new password is too long: use at most 200 characters."),
    (PASSWORD, PASSWORD, PASSWORD, "new_password",
     "The new password is the same as the current one"),
    (PASSWORD, "AIGERIM@Example.kz", "AIGERIM@Example.kz", "new_password",
     "The new password cannot be your email address."),
    (PASSWORD, "aigerim  NURLANOVA", "aigerim  NURLANOVA", "new_password",
     "The new password cannot be your name."),
    (PASSWORD, NEW, NEW + "!", "new_password_again", "The two new passwords differ"),
    (PASSWORD, NEW, "", "new_password_again", "Type the new password again."),
], ids=["no-current", "no-new", "short", "long", "same", "email", "name", "mismatch",
        "no-repeat"])
def test_a_refused_password_is_named_next_to_its_field_and_nothing_changes(
        client, aigerim, current, new, again, field, message):
    login_as(client, aigerim)
    before = fresh(aigerim).password_hash
    response = change(client, current, new, again)
    assert response.status_code == 400
    assert message in error_next_to(response, field)
    assert fresh(aigerim).password_hash == before
    assert fresh(aigerim).password_changed_at is None
    assert changes_recorded() == []


def test_a_wrong_current_password_is_refused_with_401(client, aigerim):
    login_as(client, aigerim)
    before = fresh(aigerim).password_hash
    response = change(client, current="not my password")
    assert response.status_code == 401
    assert "This is not your current password." in error_next_to(response, "current_password")
    assert fresh(aigerim).password_hash == before
    assert changes_recorded() == []


def test_the_form_needs_its_csrf_token(client, aigerim):
    login_as(client, aigerim)
    before = fresh(aigerim).password_hash
    response = client.post("/account/password", no_csrf=True, data={
        "current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW})
    assert response.status_code == 400
    assert "form expired" in page_text(response)
    assert fresh(aigerim).password_hash == before


def test_guessing_the_current_password_is_rate_limited_like_signing_in(client, app, aigerim):
    login_as(client, aigerim)
    before = fresh(aigerim).password_hash
    for _ in range(app.config["LOGIN_RATE_LIMIT"]):
        assert change(client, current="a guess").status_code == 401
    response = change(client)
    assert response.status_code == 429
    assert "Too many failed attempts" in page_text(response)
    assert fresh(aigerim).password_hash == before
    # The same counter as the sign-in form: the guesses lock that too.
    other = app.test_client()
    assert other.post("/login", data={"email": aigerim.email,
                                      "password": PASSWORD}).status_code == 429


def test_other_sessions_end_and_this_one_stays(client, app, aigerim):
    laptop = app.test_client()
    login_as(laptop, aigerim)
    login_as(client, aigerim)
    assert laptop.get("/requirements/").status_code == 200
    assert change(client).status_code == 302
    response = laptop.get("/requirements/")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert client.get("/requirements/").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and response.location.startswith("/login")
    assert client.post("/account/password", data={}).status_code == 302


def test_the_change_is_in_the_audit_log(client, aigerim, admin):
    login_as(client, aigerim)
    change(client)
    (entry,) = changes_recorded()
    assert entry.actor_id == entry.target_id == aigerim.id
    assert entry.target_label == aigerim.email
    assert NEW not in str(entry.details) and PASSWORD not in str(entry.details)
    login_as(client, admin)
    log = page_text(client.get("/admin/audit/?kind=people"))
    assert "changed their own password" in log and aigerim.email in log


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example",
                                    "/\\evil.example", "javascript:alert(1)"])
def test_next_leads_only_within_the_site(client, aigerim, target):
    login_as(client, aigerim)
    response = change(client, next=target)
    assert response.status_code == 302 and response.location == "/requirements/"


def test_next_within_the_site_is_followed(client, aigerim):
    login_as(client, aigerim)
    page = client.get("/account/password?next=/requirements/%3Fstate%3Dproposed")
    assert 'value="/requirements/?state=proposed"' in page.get_data(as_text=True)
    response = change(client, next="/requirements/?state=proposed")
    assert response.location == "/requirements/?state=proposed"


def test_the_header_offers_the_password_page(client, aigerim):
    login_as(client, aigerim)
    html = client.get("/requirements/").get_data(as_text=True)
    assert 'href="/account/password"' in html and "Change password" in html


# A password given by an administrator works once --------------------------------------------

def test_after_a_reset_nothing_opens_until_the_person_chooses_a_password(
        client, app, world, admin, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    req = world.requirement(fire)
    login_as(client, admin)
    given = shown_password(client.post(f"/admin/users/{rita.id}/password", data={}))
    assert fresh(rita).must_change_password is True

    her = app.test_client()
    assert login_as(her, rita, given).status_code == 302
    response = her.get(f"/requirements/{req.id}?tab=history")
    assert response.status_code == 302
    assert response.location == (f"/account/password?next=/requirements/{req.id}"
                                  "?tab%3Dhistory")
    page = her.get(response.location)
    assert page.status_code == 200
    assert FORCED in page_text(page) and "Choose your own password" in page_text(page)
    assert "The password you were given" in page_text(page)  # not "current password"
    assert 'href="/requirements/"' not in page.get_data(as_text=True)  # no main menu yet

    refused = her.post(f"/requirements/{req.id}/comment", data={"text": "Hello"})
    assert refused.status_code == 403 and FORCED in page_text(refused)
    as_json = her.post(f"/requirements/{req.id}/comment", data={"text": "Hello"},
                       headers={"Accept": "application/json"})
    assert as_json.status_code == 403 and as_json.get_json()["message"] == FORCED
    # What stays open: static files, the health check, error pages, the language switch.
    with her.get("/static/app.css") as static:
        assert static.status_code == 200
    assert her.get("/healthz").status_code == 200
    assert her.get("/no-such-page").status_code == 404
    assert her.post("/language", data={"language": "en", "next": "/"}).status_code == 302

    response = change(her, current=given, next=f"/requirements/{req.id}")
    assert response.status_code == 302 and response.location == f"/requirements/{req.id}"
    assert her.get(f"/requirements/{req.id}").status_code == 200
    assert fresh(rita).must_change_password is False


def test_a_person_who_must_change_can_still_sign_out(client, app, world, admin):
    rita = world.user("rita")
    login_as(client, admin)
    given = shown_password(client.post(f"/admin/users/{rita.id}/password", data={}))
    her = app.test_client()
    login_as(her, rita, given)
    response = her.post("/logout", data={})
    assert response.status_code == 302 and response.location == "/login"
    assert her.get("/account/password").location.startswith("/login")


def test_a_new_account_chooses_its_password_at_the_first_sign_in(client, app, admin, fire):
    login_as(client, admin)
    given = shown_password(client.post("/admin/users/new", data=user_form(
        **{f"area-{fire.id}": "reviewer"})))
    aliya = db.session.scalar(sa.select(User).where(User.email == "aliya@gov.kz"))
    assert aliya.must_change_password is True

    her = app.test_client()
    assert login_as(her, aliya, given).location == "/requirements/"
    assert her.get("/requirements/").location == "/account/password?next=/requirements/"
    assert change(her, current=given).status_code == 302
    assert her.get("/requirements/").status_code == 200


def test_the_admin_is_told_the_person_will_choose_a_password(client, world, admin):
    rita = world.user("rita")
    login_as(client, admin)
    response = client.post(f"/admin/users/{rita.id}/password", data={})
    assert "Rita chooses their own password" in page_text(response)


def test_an_operator_typed_password_from_the_command_line_is_kept(runner):
    result = runner.invoke(args=["create-user", "--email", "ops@example.kz", "--name", "Ops",
                                 "--password", "typed by the operator"])
    assert result.exit_code == 0, result.output
    ops = db.session.scalar(sa.select(User).where(User.email == "ops@example.kz"))
    assert ops.must_change_password is False


# In a real browser ---------------------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")
def test_in_a_browser_a_reset_person_chooses_a_password_then_works(
        new_context, world, screenshot):  # noqa: F811 - the imported fixtures
    from playwright.sync_api import expect

    fire = world.area("07")
    admin = world.user("admin", role=GlobalRole.ADMIN)
    rita = world.user("rita", reviewer_in=(fire,))
    world.requirement(fire)

    desk = new_context().new_page()
    sign_in(desk, admin)
    desk.goto(f"/admin/users/{rita.id}")
    desk.get_by_test_id("reset-password").click()
    expect(desk.get_by_test_id("password")).to_be_visible()
    expect(desk.get_by_role("main")).to_contain_text("Rita chooses their own password")
    given = desk.get_by_test_id("password").inner_text().strip()

    page = new_context().new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(rita.email)
    page.get_by_label("Password").fill(given)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(FORCED)
    expect(page.get_by_role("link", name="Requirements", exact=True)).to_have_count(0)
    screenshot(page, "password-01-forced")

    page.get_by_label("The password you were given").fill(given)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("short")
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("alert")).to_contain_text("The new password is too short")
    screenshot(page, "password-02-too-short")

    page.get_by_label("The password you were given").fill(given)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("New password again").fill(NEW)
    page.get_by_role("button", name="Change the password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed")
    expect(page.get_by_test_id("requirements").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Change password")).to_be_visible()
    screenshot(page, "password-03-done")
    assert fresh(rita).must_change_password is False
