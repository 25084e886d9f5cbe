"""In-app notifications: people hear of work given to them, returned to them, waiting for their
approval, summaries and imports they asked for -- written in the event's own transaction,
shown behind the bell, read once seen, and only ever to the person they are for."""

from __future__ import annotations

import sqlalchemy as sa

from review_app.extensions import db
from review_app.notifications.models import Notification, NotificationKind
from tests.conftest import decide, login_as, page_text, propose
from tests.importing import csv_bytes, row
from tests.summaries_support import run_worker
from tests.test_imports import batch_id, confirm, upload


def kinds(user) -> list[tuple[str, int | None]]:
    db.session.expire_all()
    return [(n.kind.value, n.requirement_id) for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user.id)
        .order_by(Notification.id))]


def bell(client) -> str:
    html = client.get("/requirements/").get_data(as_text=True)
    assert 'data-testid="bell"' in html
    start = html.find('data-testid="bell-count">')
    return "" if start < 0 else html[start:].split(">", 1)[1].split("<", 1)[0]


def test_a_proposal_waits_for_the_lead_who_sees_it_behind_the_bell_once(client, world, team):
    req = world.requirement(team["fire"], title="Огнетушители на каждом этаже")
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    assert kinds(team["lead"]) == [("to_approve", req.id)]
    assert kinds(team["aigerim"]) == []  # nobody hears of their own action
    assert kinds(team["lead12"]) == []  # nor of another area's work

    login_as(client, team["lead"])
    assert bell(client) == "1"
    text = page_text(client.get("/notifications/"))
    assert "Aigerim made a proposal that waits for your approval:" in text
    assert req.code in text and "unread" in text
    assert bell(client) == ""  # seen: read
    assert "unread" not in page_text(client.get("/notifications/"))


def test_a_return_tells_the_reviewer_with_the_leads_comment(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    propose(client, req, "revise")
    login_as(client, team["lead"])
    decide(client, req, "return", comment="Уточните срок хранения журнала.")
    assert kinds(team["aigerim"]) == [("returned", req.id)]

    login_as(client, team["aigerim"])
    text = page_text(client.get("/notifications/"))
    assert "Erlan returned a requirement to you:" in text
    assert "Уточните срок хранения журнала." in text


def test_the_project_office_hears_of_a_proposal_no_lead_can_decide(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    propose(client, req, "keep")  # the only lead proposed: admins decide
    assert kinds(team["admin"]) == [("to_approve", req.id)]
    assert kinds(team["manager"]) == []


def test_assignment_by_the_lead_is_told_but_taking_work_oneself_is_not(client, world, team):
    one, many = world.requirement(team["fire"]), [world.requirement(team["fire"])
                                                  for _ in range(3)]
    login_as(client, team["lead"])
    client.post(f"/requirements/{one.id}/assign", data={"assignee": str(team["bolat"].id)})
    client.post("/requirements/assign", data={"give_to": str(team["dana"].id),
                                              "item": [f"{r.id}:{r.version}" for r in many]})
    assert kinds(team["bolat"]) == [("assigned", one.id)]
    notes = list(db.session.scalars(sa.select(Notification).where(
        Notification.user_id == team["dana"].id)))
    assert [(n.kind, n.item_count) for n in notes] == [(NotificationKind.ASSIGNED, 3)]

    login_as(client, team["dana"])
    assert "Erlan assigned requirements to you: 3." in page_text(client.get("/notifications/"))
    login_as(client, team["aigerim"])
    client.post("/my-work/claim", data={})
    assert kinds(team["aigerim"]) == []


def test_a_finished_summary_tells_who_asked_for_it(client, app, team):
    login_as(client, team["manager"])
    client.post("/summaries/", data={"area": "", "format": "csv"})
    run_worker(app)
    assert kinds(team["manager"]) == [("summary_ready", None)]
    text = page_text(client.get("/notifications/"))
    assert "The summary you asked for is ready: All areas, CSV. Download" in text
    assert kinds(team["lead"]) == []


def test_a_finished_import_tells_the_admin(client, team):
    login_as(client, team["admin"])
    ident = batch_id(upload(client, csv_bytes([row("TR-07-90001")]), name="перечень.csv"))
    confirm(client, ident)
    assert kinds(team["admin"]) == [("import_done", None)]
    assert "The import of “перечень.csv” has finished: imported" in page_text(
        client.get("/notifications/"))


def test_notifications_are_only_for_their_person(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    login_as(client, team["bolat"])
    assert bell(client) == ""
    assert req.code not in page_text(client.get("/notifications/"))
    client.post("/logout", data={})
    assert client.get("/notifications/").status_code == 302


def test_each_person_switches_the_digest_off_and_on(client, team):
    login_as(client, team["aigerim"])
    assert client.post("/notifications/digest", data={}).status_code == 303
    db.session.expire_all()
    assert team["aigerim"].digest_enabled is False
    client.post("/notifications/digest", data={"enabled": "y"})
    db.session.expire_all()
    assert team["aigerim"].digest_enabled is True
    assert team["bolat"].digest_enabled is True  # nobody else's
