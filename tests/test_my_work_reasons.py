"""Why returned work is back on "My work", and a bulk assignment that never unassigns by default.

A new-user test found a requirement sent back by an import listed as returned with an empty
comment, and the bulk "Give to" select defaulting to "nobody", so Assign removed assignees.
"""

import re

import pytest
import sqlalchemy as sa

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.requirements.models import Requirement, State
from review_app.reviews import workflow
from review_app.reviews.models import Action
from tests.conftest import decide, events, login_as, page_text, propose, reload


@pytest.fixture
def team(world):
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    return {
        "fire": fire, "transport": transport,
        "aigerim": world.user("aigerim", reviewer_in=(fire,)),
        "bolat": world.user("bolat", reviewer_in=(fire, transport)),
        "outsider": world.user("outsider", reviewer_in=(transport,)),
        "gone": world.user("gone", reviewer_in=(fire,), active=False),
        "lead": world.user("erlan", lead_in=(fire,)),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
    }




def give_to(req, user):
    db.session.execute(sa.update(Requirement).where(Requirement.id == req.id)
                       .values(assignee_id=user.id if user else None))
    db.session.commit()


def imported(req, admin, new_text="Субъекты обязаны обеспечить огнетушители в каждом помещении."):
    """What a confirmed import does to a requirement whose text changed."""
    req = reload(req)
    workflow.wording_changed(req, admin, req.text, new_text)
    db.session.commit()
    return reload(req)


def proposed(client, world, team, reviewer="aigerim", **fields):
    req = world.requirement(team["fire"], **fields)
    login_as(client, team[reviewer])
    assert propose(client, req).status_code == 302
    return reload(req)


def reason_cells(html):
    """{code: visible text of its "why it came back" cell} on My work."""
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        code = re.search(r'class="code"><a [^>]+>([^<]+)<', row)
        reason = re.search(r'data-testid="reason">(.*?)</td>', row, re.S)
        if code and reason:
            cells[code.group(1)] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ",
                                                              reason.group(1))).strip()
    return cells


# My work: why each returned item is back --------------------------------------------------------

def test_my_work_says_an_import_replaced_the_text(client, world, team):
    req = proposed(client, world, team)
    login_as(client, team["lead"])
    decide(client, req, "approve", "Согласен")
    req = imported(req, team["admin"])
    assert req.state == State.RETURNED
    give_to(req, team["aigerim"])
    # Stored in UTC, shown in the app's time zone (Asia/Almaty): the date can differ.
    from datetime import UTC
    from zoneinfo import ZoneInfo

    when = (events(req, Action.WORDING_CHANGED)[0].created_at.replace(tzinfo=UTC)
            .astimezone(ZoneInfo("Asia/Almaty")).strftime("%d.%m.%Y %H:%M"))

    login_as(client, team["aigerim"])
    html = client.get("/my-work").get_data(as_text=True)
    reason = reason_cells(html)[req.code]
    assert reason.startswith("The text was replaced by an import (Admin, " + when)
    assert "See what changed" in reason
    assert f'href="/requirements/{req.id}?from=my-work#history"' in html
    assert "Согласен" not in reason  # the approval is not why it came back
    assert 'id="history"' in client.get(f"/requirements/{req.id}").get_data(as_text=True)


def test_my_work_still_shows_the_leads_comment(client, world, team):
    req = proposed(client, world, team)
    login_as(client, team["lead"])
    decide(client, req, "return", "Нужна ссылка на статью закона")
    give_to(req, team["aigerim"])
    login_as(client, team["aigerim"])
    reason = reason_cells(client.get("/my-work").get_data(as_text=True))[req.code]
    assert reason.startswith("Нужна ссылка на статью закона — Erlan, ")
    assert "import" not in reason


def test_a_return_then_an_import_shows_both_in_order(client, world, team):
    req = proposed(client, world, team)
    login_as(client, team["lead"])
    decide(client, req, "return", "Уточните сроки")
    req = imported(req, team["admin"])
    give_to(req, team["aigerim"])
    login_as(client, team["aigerim"])
    reason = reason_cells(client.get("/my-work").get_data(as_text=True))[req.code]
    assert reason.index("Уточните сроки") < reason.index("replaced by an import")


def test_a_comment_answered_by_a_new_proposal_is_not_shown_again(client, world, team):
    req = proposed(client, world, team)
    login_as(client, team["lead"])
    decide(client, req, "return", "Старое замечание")
    login_as(client, team["aigerim"])
    assert propose(client, reload(req)).status_code == 302  # the reviewer answered it
    req = imported(req, team["admin"])
    give_to(req, team["aigerim"])
    reason = reason_cells(client.get("/my-work").get_data(as_text=True))[req.code]
    assert "replaced by an import" in reason and "Старое замечание" not in reason


def test_under_dual_review_a_first_proposal_keeps_the_leads_comment(client, world, team):
    team["fire"].dual_review = True
    db.session.commit()
    req = world.requirement(team["fire"])
    for who in ("aigerim", "bolat"):
        login_as(client, team[who])
        assert propose(client, reload(req)).status_code == 302
    login_as(client, team["lead"])
    decide(client, reload(req), "return", "Проверьте расчёт")
    login_as(client, team["bolat"])
    assert propose(client, reload(req)).status_code == 302  # first of the next round
    assert reload(req).state == State.RETURNED
    give_to(req, team["aigerim"])
    login_as(client, team["aigerim"])
    assert "Проверьте расчёт" in reason_cells(
        client.get("/my-work").get_data(as_text=True))[req.code]


def test_my_work_queries_do_not_grow_with_returned_rows(client, world, team, count_queries):
    def add_returned(n):
        for i in range(n):
            req = proposed(client, world, team)
            login_as(client, team["lead"])
            if i % 2:
                decide(client, req, "return", f"Замечание {i}")
            else:
                decide(client, req, "approve", "")
                imported(req, team["admin"])
            give_to(req, team["aigerim"])

    counts = {}
    for total, more in ((2, 2), (10, 8)):
        add_returned(more)
        login_as(client, team["aigerim"])
        client.get("/my-work")
        with count_queries() as statements:
            html = client.get("/my-work").get_data(as_text=True)
        cells = reason_cells(html)
        assert len(cells) == total and all(cells.values()), cells
        assert sum("replaced by an import" in c for c in cells.values()) == total // 2
        counts[total] = len(statements)
    assert counts[2] == counts[10], counts


# Bulk assignment: nobody loses work by accident -------------------------------------------------

def test_the_bulk_select_starts_empty_and_names_each_persons_areas(client, world, team):
    world.requirement(team["fire"])
    world.requirement(team["transport"])
    login_as(client, team["admin"])
    html = client.get("/requirements/").get_data(as_text=True)
    select = re.search(r'<select id="bulk-assignee" name="give_to"[^>]*>(.*?)</select>',
                       html, re.S)
    assert select and "required" in select.group(0).split(">")[0]
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    assert options[0] == ("", " selected", "— choose —")
    assert options[1] == ("none", "", "nobody (unassign)")
    names = [label for _value, _sel, label in options[2:]]
    assert "Bolat — 07, 12" in names and "Aigerim — 07" in names and "Outsider — 12" in names
    assert not any(n.startswith(("Gone", "Admin")) for n in names)  # inactive; no area

    # Filtered to one area, only the people who can take its work are offered.
    html = client.get("/requirements/?area=07").get_data(as_text=True)
    select = re.search(r'<select id="bulk-assignee".*?</select>', html, re.S).group(0)
    assert "Aigerim — 07" in select and "Bolat — 07, 12" in select
    assert "Outsider" not in select


def test_a_lead_is_offered_the_people_of_the_areas_they_lead(client, world, team):
    world.requirement(team["fire"])
    login_as(client, team["lead"])
    html = client.get("/requirements/").get_data(as_text=True)
    select = re.search(r'<select id="bulk-assignee".*?</select>', html, re.S).group(0)
    assert "Bolat — 07<" in select and "Outsider" not in select


def test_assign_without_choosing_anyone_is_refused_and_changes_nothing(client, world, team):
    reqs = [world.requirement(team["fire"], assignee_id=team["aigerim"].id) for _ in range(2)]
    login_as(client, team["lead"])
    for data in ({"give_to": "", "item": [str(r.id) for r in reqs]},
                 {"item": [str(r.id) for r in reqs]},
                 {"give_to": " ", "scope": "filter", "area": "07"}):
        response = client.post("/requirements/assign", data=data)
        assert response.status_code == 400
        assert "No person was chosen in “Give to”" in page_text(response)
        assert "Nothing was changed." in page_text(response)
    assert [reload(r).assignee_id for r in reqs] == [team["aigerim"].id] * 2
    assert all(events(r) == [] for r in reqs)


def test_choosing_nobody_still_unassigns(client, world, team):
    reqs = [world.requirement(team["fire"], assignee_id=team["aigerim"].id) for _ in range(2)]
    login_as(client, team["lead"])
    response = client.post("/requirements/assign", data={
        "give_to": "none", "item": [str(r.id) for r in reqs]})
    # The result is shown after a redirect (a reload does not run the action again).
    assert response.status_code == 303
    response = client.get(response.location)
    assert "Unassigned 2 requirements." in page_text(response)
    assert [reload(r).assignee_id for r in reqs] == [None, None]
    assert [e.action for r in reqs for e in events(r)] == [Action.UNASSIGN] * 2


def test_a_person_from_another_area_is_still_refused(client, world, team):
    req = world.requirement(team["fire"], assignee_id=team["aigerim"].id)
    login_as(client, team["admin"])
    response = client.post("/requirements/assign", data={
        "give_to": str(team["outsider"].id), "item": [str(req.id)]})
    # The result is shown after a redirect (a reload does not run the action again).
    assert response.status_code == 303
    response = client.get(response.location)
    assert "Outsider does not work in area 07." in page_text(response)
    assert reload(req).assignee_id == team["aigerim"].id and events(req) == []
