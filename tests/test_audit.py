"""The audit log: an auditor (admin or manager) can answer who did what, when, from where —
sign-ins, refusals, imports, changes to people, and every review step. Nothing can be erased."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from review_app.audit import AuditEntry, record
from review_app.audit.models import AuditAppendOnlyError
from review_app.auth.models import GlobalRole, User
from review_app.extensions import db
from tests.conftest import PASSWORD, decide, login_as, page_text, propose


def entries(action: str | None = None) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def test_sign_ins_failures_and_sign_outs_are_recorded(client, world, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    gone = world.user("gone", active=False)
    client.post("/login", data={"email": "nobody@example.kz", "password": "x"})
    client.post("/login", data={"email": rita.email, "password": "wrong"})
    client.post("/login", data={"email": gone.email, "password": PASSWORD})
    login_as(client, rita)
    client.post("/logout", data={})

    failed = entries("sign_in_failed")
    assert [(e.actor_email, e.actor_id, e.details["reason"]) for e in failed] == [
        ("nobody@example.kz", None, "unknown_account"),
        (rita.email, rita.id, "wrong_password"),
        (gone.email, gone.id, "deactivated")]
    assert failed[0].ip_address == "127.0.0.1"
    assert [(e.action, e.actor_id) for e in entries() if e.action != "sign_in_failed"] == [
        ("sign_in", rita.id), ("sign_out", rita.id)]


def test_a_refused_action_stays_in_the_log(client, world, fire, transport):
    rita = world.user("rita", reviewer_in=(fire,))
    tacho = world.requirement(transport, title="Тахографы")
    login_as(client, rita)
    assert client.get(f"/requirements/{tacho.id}").status_code == 403
    assert propose(client, tacho, "cancel").status_code == 403
    denied = entries("denied")
    assert len(denied) == 2
    assert (denied[0].actor_id, denied[0].target_type, denied[0].target_label,
            denied[0].area_id) == (rita.id, "requirement", tacho.code, transport.id)
    assert denied[0].details == {"action": "view", "path": f"/requirements/{tacho.id}",
                                 "method": "GET"}
    assert denied[1].details["method"] == "POST"


def test_approving_ones_own_proposal_is_logged_as_refused(client, world, fire):
    leo = world.user("leo", lead_in=(fire,))
    req = world.requirement(fire)
    login_as(client, leo)
    propose(client, req, "keep")
    assert decide(client, req, "approve").status_code == 403
    assert entries("denied")[-1].details["action"] == "approve-own"


@pytest.mark.parametrize("who", ["admin", "manager"])
def test_admins_and_managers_read_the_whole_trail(client, world, fire, who, admin, manager):
    rita = world.user("rita", reviewer_in=(fire,))
    leo = world.user("leo", lead_in=(fire,))
    req = world.requirement(fire, title="Огнетушители")
    login_as(client, rita)
    propose(client, req, "cancel", justification="Дублирует техрегламент.")
    login_as(client, leo)
    decide(client, req, "approve", "Согласен")
    client.post("/logout", data={})
    client.post("/login", data={"email": "intruder@example.kz", "password": "x"})

    login_as(client, admin if who == "admin" else manager)
    page = page_text(client.get("/admin/audit/"))
    assert "Leo approved" in page.replace("  ", " ") or ("Leo" in page and "approved" in page)
    assert "Rita" in page and "proposed" in page and "Дублирует техрегламент." in page
    assert req.code in page and "area 07" in page
    assert "intruder@example.kz" in page and "failed to sign in" in page
    assert "signed in" in page


@pytest.mark.parametrize("who", ["reviewer", "lead"])
def test_reviewers_and_leads_cannot_read_it(client, world, fire, who):
    person = world.user("p", reviewer_in=(fire,)) if who == "reviewer" else world.user(
        "p", lead_in=(fire,))
    login_as(client, person)
    assert client.get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit.csv").status_code == 403
    assert entries("denied")[-1].details["action"] == "view-audit"


def test_filters_narrow_the_trail(client, world, fire, transport, manager):
    rita = world.user("rita", reviewer_in=(fire,))
    ben = world.user("ben", reviewer_in=(transport,))
    fire_req = world.requirement(fire)
    road_req = world.requirement(transport)
    login_as(client, rita)
    propose(client, fire_req, "cancel")
    client.get(f"/requirements/{road_req.id}")  # refused
    login_as(client, ben)
    propose(client, road_req, "keep")
    client.post("/logout", data={})
    client.post("/login", data={"email": "x@example.kz", "password": "x"})

    login_as(client, manager)
    page = page_text(client.get("/admin/audit/?kind=decisions"))
    assert fire_req.code in page and road_req.code in page and "signed in" not in page
    page = page_text(client.get("/admin/audit/?kind=decisions&area=07"))
    assert fire_req.code in page and road_req.code not in page
    page = page_text(client.get("/admin/audit/?who=rita"))
    assert "Rita" in page and "Ben" not in page and "was refused" in page
    page = page_text(client.get("/admin/audit/?kind=failed_sign_ins"))
    assert "x@example.kz" in page and "Rita" not in page
    page = page_text(client.get("/admin/audit/?kind=denied&area=12"))
    assert road_req.code in page and "view" in page
    assert "Nothing matches" in page_text(client.get("/admin/audit/?from=2001-01-01&to=2001-01-02"))
    assert "Rita" in page_text(client.get("/admin/audit/?from=2020-01-01"))


def test_bad_filters_are_named(client, manager):
    login_as(client, manager)
    response = client.get("/admin/audit/?kind=everything&area=99&from=yesterday&after=zzz")
    assert response.status_code == 400
    page = page_text(response)
    assert "Unknown kind of event “everything”" in page and "Unknown area “99”" in page
    assert "“From” is not a date" in page
    response = client.get("/admin/audit/?after=not-a-cursor")
    assert response.status_code == 400 and "page link is broken" in page_text(response)
    response = client.get("/admin/audit/?from=2026-02-02&to=2026-01-01")
    assert "“From” is after “To”" in page_text(response)


def test_pages_walk_through_both_logs_without_gaps(client, app, world, fire, manager):
    rita = world.user("rita", reviewer_in=(fire,))
    reqs = [world.requirement(fire) for _ in range(30)]
    stranger = app.test_client()
    login_as(client, rita)
    for req in reqs:
        propose(client, req, "cancel")
        client.get("/requirements/999999")  # 404, not logged
        stranger.post("/login", data={"email": "x@example.kz", "password": "x"})
    login_as(client, manager)
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) + 30
    seen, url = [], "/admin/audit/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<tr class="audit-([a-z_]+)" data-key="([ar]\d+)">', html)
        match = re.search(r'rel="next" href="([^"]+)"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert len(seen) == expected == len(set(seen))  # every entry once
    actions = [action for action, _ in seen]
    assert actions.count("propose") == 30 and actions.count("sign_in_failed") == 30


def test_csv_export_of_the_filtered_trail(client, world, fire, admin):
    rita = world.user("rita", reviewer_in=(fire,))
    req = world.requirement(fire)
    login_as(client, rita)
    propose(client, req, "cancel", justification="=cmd|' /C calc'!A0")
    client.post("/logout", data={})
    client.post("/login", data={"email": "=evil@example.kz", "password": "x"})
    login_as(client, admin)
    response = client.get("/admin/audit.csv?kind=decisions")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[0][:5] == ["Time", "Person", "Name", "Event", "Event code"]
    assert len(rows) == 3 and rows[1][4] == "propose" and rows[1][5] == req.code
    assert rows[2] == ["# End of the audit log export: 1 entry."]  # complete, and says so
    assert rows[1][9] == "'=cmd|' /C calc'!A0"
    everything = list(csv.reader(io.StringIO(client.get("/admin/audit.csv").get_data().decode(
        "utf-8-sig")), delimiter=";"))
    assert any(r[1] == "'=evil@example.kz" for r in everything)
    failed = next(r for r in everything if r[4] == "sign_in_failed")
    assert everything[0][8:] == ["Details", "Text", "Address", "Details (JSON)"]
    assert failed[8] == "no such account"
    assert json.loads(failed[11]) == {"reason": "unknown_account"}
    assert client.get("/admin/audit.csv?from=nope").status_code == 400


def test_the_log_cannot_be_changed_or_erased(app, world):
    admin = world.user("admin", role=GlobalRole.ADMIN)
    entry = record("sign_in", actor=admin)
    db.session.commit()
    entry.action = "nothing happened"
    with pytest.raises(AuditAppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditAppendOnlyError):
        db.session.flush()
    db.session.rollback()
    # Not even behind the ORM's back: the database refuses it.
    for statement in ("UPDATE audit_entries SET action = 'x'", "DELETE FROM audit_entries"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).action == "sign_in"


# Details read as words, in the reader's language -------------------------------------------------

def details_cells(response) -> list[str]:
    """The "Details" cell of each row, as text (without the quoted comment)."""
    html = response.get_data(as_text=True)
    cells = re.findall(r'<td class="small">(.*?)(?:<blockquote|</td>)', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in cells]


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))


def test_a_proposal_shows_state_and_decision_as_the_app_names_them(client, world, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    auditor = world.user("auditor", role=GlobalRole.MANAGER, language="ru")
    req = world.requirement(fire)
    login_as(client, rita)
    propose(client, req, "keep")
    login_as(client, auditor)
    [details] = details_cells(client.get("/admin/audit/?kind=decisions"))
    assert details == "статус: не рассмотрено → предложено; решение: сохранить"


def test_a_change_to_a_person_names_the_language_roles_and_areas(client, world, fire, transport):
    admin = world.user("admin", role=GlobalRole.ADMIN, language="ru")
    aliya = world.user("aliya", reviewer_in=(transport,), language="ru")
    login_as(client, admin)
    response = client.post(f"/admin/users/{aliya.id}", data={
        "email": aliya.email, "display_name": aliya.display_name, "language": "kk",
        "global_role": "manager", f"area-{fire.id}": "lead"})
    assert response.status_code in (200, 302)
    [details] = details_cells(client.get("/admin/audit/?kind=people"))
    assert "язык: Русский → Қазақша" in details
    assert "общая роль: — → Руководитель" in details
    assert ("сферы: 12 · Транспорт (эксперт) → 07 · Пожарная безопасность (куратор)"
            in details)
    for code in ("kk", "ru", "manager", "reviewer", "lead"):
        assert not re.search(rf"\b{code}\b", details), code


def test_an_export_lists_only_the_filters_that_were_set(client, world, fire):
    leo = world.user("leo", lead_in=(fire,))
    auditor = world.user("auditor", role=GlobalRole.MANAGER, language="ru")
    world.requirement(fire)
    login_as(client, leo)
    assert client.get("/requirements/export.csv?q=&area=07&state=proposed&decision=&assignee=me"
                      "&body=&sort=code").status_code == 200
    login_as(client, auditor)
    # Newest first: how the export ended (complete, no rows), then what was asked for.
    completed, details = details_cells(client.get("/admin/audit/?kind=exports"))
    assert details == ("формат: CSV; фильтры: Сфера — 07 · Пожарная безопасность, "
                       "Статус — предложено, Исполнитель — Я")
    assert completed.startswith("формат: CSV; ") and "0" in completed


def test_the_csv_has_the_details_in_words_and_as_json(client, world, fire):
    rita = world.user("rita", reviewer_in=(fire,))
    auditor = world.user("auditor", role=GlobalRole.MANAGER, language="ru")
    req = world.requirement(fire)
    login_as(client, rita)
    propose(client, req, "cancel")
    login_as(client, auditor)
    rows = csv_rows(client.get("/admin/audit.csv?kind=decisions"))
    assert rows[0][:3] == ["Время", "Сотрудник", "ФИО"]
    assert rows[1][4] == "propose"
    assert rows[1][8] == "статус: не рассмотрено → предложено; решение: отменить"
    assert json.loads(rows[1][11]) == {"state": {"from": "unreviewed", "to": "proposed"},
                                       "decision": "cancel"}


def test_the_person_filter_finds_a_name_in_any_case(client, world, fire, manager):
    aigul = world.user("aigul", reviewer_in=(fire,))
    ben = world.user("ben", reviewer_in=(fire,))
    db.session.get(User, aigul.id).display_name = "Сәрсенова Айгүл"
    db.session.commit()
    req, other = world.requirement(fire), world.requirement(fire)
    login_as(client, aigul)
    propose(client, req, "keep")
    login_as(client, ben)
    propose(client, other, "keep")
    login_as(client, manager)
    for who in ("Сәрсенова", "сәрсенова", "СӘРСЕНОВА", "айгүл", "AIGUL@example"):
        page = page_text(client.get("/admin/audit/", query_string={"who": who}))
        assert "Сәрсенова Айгүл" in page and req.code in page and "signed in" in page, who
        assert "Ben" not in page and other.code not in page, who
    assert "Nothing matches" in page_text(client.get("/admin/audit/?who=Петров"))


def test_a_wording_changed_by_an_import_shows_old_against_new(client, world, fire, admin):
    from review_app.reviews import workflow

    req = world.requirement(fire, text="Огнетушители на каждом этаже.")
    workflow.wording_changed(db.session.get(type(req), req.id), db.session.get(User, admin.id),
                             "Огнетушители на каждом этаже.",
                             "Огнетушители и аптечки на каждом этаже.")
    db.session.commit()
    login_as(client, admin)
    html = client.get("/admin/audit/").get_data(as_text=True)
    diff = re.search(r'data-testid="wording-diff">(.*?)</div>', html, re.S).group(1)
    assert "<ins>и аптечки </ins>" in diff or "<ins> и аптечки</ins>" in diff
