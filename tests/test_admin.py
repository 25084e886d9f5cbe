"""An administrator manages the people who work in the system, and the areas."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry
from review_app.auth.models import AreaRole, GlobalRole, User
from review_app.extensions import db
from review_app.requirements.models import Area
from tests.conftest import PASSWORD, login_as, page_text


def user_form(**fields) -> dict[str, str]:
    data = {"email": "aliya@gov.kz", "display_name": "Алия Нурланова", "language": "kk",
            "global_role": ""}
    data.update(fields)
    return data


def shown_password(response) -> str:
    match = re.search(r'data-testid="password"><code>([^<]+)</code>', response.get_data(
        as_text=True))
    assert match, page_text(response)[:400]
    return match.group(1)


def person(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_admin_adds_a_reviewer_who_can_then_sign_in(client, app, admin, fire, transport):
    login_as(client, admin)
    response = client.post("/admin/users/new", data=user_form(
        email=" Aliya@Gov.KZ ", **{f"area-{fire.id}": "reviewer", f"area-{transport.id}": "lead"}))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = shown_password(response)
    assert len(password) == 14
    aliya = person("aliya@gov.kz")
    assert aliya.display_name == "Алия Нурланова" and aliya.language == "kk"
    assert aliya.area_roles == {fire.id: AreaRole.REVIEWER, transport.id: AreaRole.LEAD}
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "user_created"))
    assert entry.actor_id == admin.id and entry.target_label == "aliya@gov.kz"
    assert entry.details["memberships"] == {"07": "reviewer", "12": "lead"}
    assert password not in str(entry.details)

    other = app.test_client()
    response = other.post("/login", data={"email": "aliya@gov.kz", "password": password})
    assert response.status_code == 302


def test_bad_details_are_named_and_nothing_is_created(client, admin, fire):
    login_as(client, admin)
    response = client.post("/admin/users/new", data=user_form(email="not-an-email"))
    assert response.status_code == 422 and "Enter an email address like" in page_text(response)
    response = client.post("/admin/users/new", data=user_form(email="admin@example.kz"))
    assert response.status_code == 422
    assert "Another account already uses admin@example.kz" in page_text(response)
    response = client.post("/admin/users/new", data=user_form(display_name="   "))
    assert response.status_code in (400, 422)
    response = client.post("/admin/users/new", data=user_form(**{f"area-{fire.id}": "owner"}))
    assert response.status_code == 400 and "Unknown role “owner” for area 07" in page_text(
        response)
    response = client.post("/admin/users/new", data=user_form(**{"area-9999": "reviewer"}))
    assert response.status_code == 400 and "Unknown area" in page_text(response)
    response = client.post("/admin/users/new", data=user_form(global_role="superuser"))
    assert response.status_code == 400
    assert person("aliya@gov.kz") is None
    assert "user_created" not in audit_actions()


def test_admin_changes_roles_and_memberships(client, world, admin, fire, transport):
    rita = world.user("rita", reviewer_in=(fire,))
    login_as(client, admin)
    response = client.post(f"/admin/users/{rita.id}", data=user_form(
        email=rita.email, display_name="Rita", language="ru", global_role="manager",
        **{f"area-{transport.id}": "lead"}))
    assert response.status_code == 302
    rita = person(rita.email)
    assert rita.global_role == GlobalRole.MANAGER
    assert rita.area_roles == {transport.id: AreaRole.LEAD}
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "user_updated")).one()
    assert entry.details["memberships"] == {"from": {"07": "reviewer"}, "to": {"12": "lead"}}
    assert entry.details["global_role"] == {"from": None, "to": "manager"}
    assert "language" in entry.details and "email" not in entry.details


def test_deactivating_ends_their_sessions_at_once(client, app, world, admin, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    req = world.requirement(fire)
    her = app.test_client()
    login_as(her, rita)
    assert her.get("/requirements/").status_code == 200

    login_as(client, admin)
    response = client.post(f"/admin/users/{rita.id}/deactivate", data={})
    assert response.status_code == 302
    assert "is deactivated and signed out everywhere" in page_text(client.get(response.location))

    response = her.get(f"/requirements/{req.id}")
    assert response.status_code == 302 and "/login" in response.location
    response = her.post("/login", data={"email": rita.email, "password": PASSWORD})
    assert response.status_code == 401
    assert person(rita.email).active is False
    assert "user_deactivated" in audit_actions()

    client.post(f"/admin/users/{rita.id}/reactivate", data={})
    assert person(rita.email).active is True
    assert her.post("/login", data={"email": rita.email, "password": PASSWORD}).status_code == 302


def test_reset_password_shows_a_new_one_once_and_signs_them_out(client, app, world, admin,
                                                                fire):
    rita = world.user("rita", reviewer_in=(fire,))
    her = app.test_client()
    login_as(her, rita)
    login_as(client, admin)
    password = shown_password(client.post(f"/admin/users/{rita.id}/password", data={}))
    assert her.get("/requirements/").status_code == 302
    assert her.post("/login", data={"email": rita.email, "password": PASSWORD}).status_code == 401
    assert her.post("/login", data={"email": rita.email, "password": password}).status_code == 302
    assert "password_reset" in audit_actions()


def test_an_admin_cannot_lock_everyone_out(client, world, admin):
    login_as(client, admin)
    response = client.post(f"/admin/users/{admin.id}/deactivate", data={})
    assert "You cannot deactivate your own account" in page_text(client.get(response.location))
    response = client.post(f"/admin/users/{admin.id}", data=user_form(
        email=admin.email, display_name="Admin", global_role=""))
    assert response.status_code == 422
    assert "cannot take away your own administrator role" in page_text(response)
    assert person(admin.email).is_admin and person(admin.email).active

    other = world.user("other", role=GlobalRole.ADMIN, active=False)
    response = client.post(f"/admin/users/{other.id}/reactivate", data={})
    assert person(other.email).active


def test_another_admin_may_deactivate_an_admin(client, world, admin):
    second = world.user("second", role=GlobalRole.ADMIN)
    login_as(client, second)
    assert client.post(f"/admin/users/{admin.id}/deactivate", data={}).status_code == 302
    assert not person(admin.email).active
    assert person(second.email).active


def test_the_last_active_admin_cannot_be_demoted_by_anyone(app, world, admin):
    """Not reachable from the pages (an admin cannot demote themselves), but the rule holds
    for any caller of the service."""
    from review_app.admin import service

    other = world.user("other", role=GlobalRole.ADMIN, active=False)
    english = app.test_request_context(headers={"Accept-Language": "en"})
    with english, pytest.raises(service.AdminError, match="last active administrator"):
        service.deactivate(other, admin)
    with english, pytest.raises(service.AdminError, match="last active administrator"):
        service.update_user(other, admin, email=admin.email, display_name="A", language="en",
                            global_role=None, memberships={})
    db.session.rollback()
    assert person(admin.email).is_admin


def test_people_list_filters(client, world, admin, fire, transport):
    world.user("rita", reviewer_in=(fire,))
    world.user("leo", lead_in=(transport,))
    world.user("gone", reviewer_in=(fire,), active=False)
    login_as(client, admin)
    page = page_text(client.get("/admin/users/?role=reviewer&status=active"))
    assert "Rita" in page and "Leo" not in page and "Gone" not in page
    page = page_text(client.get("/admin/users/?area=12"))
    assert "Leo" in page and "Rita" not in page
    page = page_text(client.get("/admin/users/?q=RIT"))
    assert "Rita" in page and "Leo" not in page
    assert "reviewer: 07" in page_text(client.get("/admin/users/"))


# Areas -----------------------------------------------------------------------------------------

def test_admin_renames_an_area_and_turns_on_dual_review(client, admin, fire):
    login_as(client, admin)
    assert "Пожарная безопасность" in page_text(client.get("/admin/areas/"))
    response = client.post("/admin/areas/07", data={
        "name_kk": "Өрт қауіпсіздігі", "name_ru": "Пожарная безопасность", "name_en": "Fire safety",
        "description": "Здания и сооружения", "dual_review": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    area = db.session.get(Area, fire.id)
    assert (area.name_kk, area.name_en, area.dual_review) == (
        "Өрт қауіпсіздігі", "Fire safety", True)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "area_updated")).one()
    assert entry.details["dual_review"] == {"from": False, "to": True}
    assert entry.area_id == fire.id


def test_an_area_needs_all_three_names(client, admin, fire):
    login_as(client, admin)
    response = client.post("/admin/areas/07", data={"name_kk": "", "name_ru": "П",
                                                    "name_en": "F"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Area, fire.id).name_ru == "Пожарная безопасность"
    assert client.get("/admin/areas/99").status_code == 404


def test_admin_adds_an_area(client, admin, fire):
    login_as(client, admin)
    names = {"name_kk": "Ғарыш", "name_ru": "Космос", "name_en": "Space"}
    response = client.post("/admin/areas/new", data={"code": "45", **names})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(Area.name_en).where(Area.code == "45")) == "Space"
    response = client.post("/admin/areas/new", data={"code": "07", **names})
    assert response.status_code == 422 and "Area 07 exists already" in page_text(response)
    response = client.post("/admin/areas/new", data={"code": "4 5", **names})
    assert response.status_code == 422


# Who may --------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["reviewer", "lead", "manager"])
def test_only_admins_manage_people_and_areas(client, world, fire, who):
    someone = {"reviewer": lambda: world.user("r", reviewer_in=(fire,)),
               "lead": lambda: world.user("l", lead_in=(fire,)),
               "manager": lambda: world.user("m", role=GlobalRole.MANAGER)}[who]()
    victim = world.user("victim", reviewer_in=(fire,))
    login_as(client, someone)
    for url in ("/admin/users/", "/admin/users/new", f"/admin/users/{victim.id}",
                "/admin/areas/", "/admin/areas/new", "/admin/areas/07"):
        assert client.get(url).status_code == 403, url
    for url, data in ((f"/admin/users/{victim.id}/deactivate", {}),
                      (f"/admin/users/{victim.id}/password", {}),
                      (f"/admin/users/{victim.id}", user_form(email=victim.email,
                                                             global_role="admin")),
                      ("/admin/users/new", user_form()),
                      ("/admin/areas/07", {"name_kk": "x", "name_ru": "x", "name_en": "x"})):
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert person(victim.email).active and person(victim.email).global_role is None
    assert person("aliya@gov.kz") is None
    assert db.session.get(Area, fire.id).name_ru == "Пожарная безопасность"
    assert audit_actions().count("denied") == 11


def test_anonymous_is_sent_to_sign_in(client, admin):
    for url in ("/admin/", "/admin/users/", "/admin/areas/", "/admin/audit/"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location


def test_forged_forms_are_refused(client, world, admin, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    login_as(client, admin)
    response = client.post(f"/admin/users/{rita.id}/deactivate", data={"csrf_token": "x"})
    assert response.status_code == 400
    assert person(rita.email).active
