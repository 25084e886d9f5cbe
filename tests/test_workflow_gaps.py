"""Gaps people met in the workflow: a lead's own proposal with nobody to approve it, imports that
changed a requirement without a trace, and pages that left them stranded after acting."""

import pytest

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.requirements.models import State
from review_app.reviews.models import Action
from tests.conftest import decide, events, login_as, page_text, propose, reload


@pytest.fixture
def team(world):
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    return {
        "fire": fire, "transport": transport,
        "aigerim": world.user("aigerim", reviewer_in=(fire,)),
        "bolat": world.user("bolat", reviewer_in=(fire,)),
        "lead": world.user("erlan", lead_in=(fire,)),
        "lead12": world.user("lead12", lead_in=(transport,)),
        "manager": world.user("manager", role=GlobalRole.MANAGER),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
    }


def item(req):
    return f"{req.id}:{reload(req).version}"


def bulk_approve(client, *reqs):
    return client.post("/queue/decide", data={"action": "approve",
                                              "item": [item(r) for r in reqs]})


# 11. A lead's own proposal -------------------------------------------------------------------

def test_a_lone_leads_own_proposal_goes_to_the_project_office(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    form = page_text(client.get(f"/requirements/{req.id}"))
    assert ("You lead this area, and nobody approves their own proposal: it will go for "
            "approval to the project office (administrators).") in form
    propose(client, req, "keep")
    queue = page_text(client.get("/queue"))
    assert "your own proposal" in queue
    assert "waits for the project office (administrators)" in queue

    login_as(client, team["admin"])
    assert req.code in page_text(client.get("/queue"))
    assert 'data-testid="decision-form"' in client.get(f"/requirements/{req.id}").text
    decide(client, req, "approve", "Согласовано проектным офисом")
    req = reload(req)
    assert req.state == State.APPROVED and req.decided_by_id == team["admin"].id
    assert events(req, Action.APPROVE)[0].actor_id == team["admin"].id


def test_with_a_second_lead_that_lead_approves_and_the_office_may_not(client, world, team):
    olga = world.user("olga", lead_in=(team["fire"],))
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    assert "it will go for approval to Olga." in page_text(client.get(f"/requirements/{req.id}"))
    propose(client, req, "keep")
    assert "waits for Olga" in page_text(client.get("/queue"))

    login_as(client, team["admin"])
    assert req.code not in page_text(client.get("/queue"))
    assert 'data-testid="decision-form"' not in client.get(f"/requirements/{req.id}").text
    assert decide(client, req, "approve").status_code == 403
    outcome = page_text(bulk_approve(client, req))
    assert "1 requirement was skipped" in outcome
    assert reload(req).state == State.PROPOSED

    login_as(client, olga)
    assert req.code in page_text(client.get("/queue"))
    decide(client, req, "approve")
    assert reload(req).state == State.APPROVED


@pytest.mark.parametrize("who", ["lead", "aigerim", "lead12", "manager"])
def test_nobody_but_the_office_approves_a_lone_leads_proposal(client, world, team, who):
    """Four-eyes: the proposing lead cannot approve on the page nor in bulk; a reviewer, a
    lead of another area and a manager cannot either."""
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    propose(client, req, "cancel")
    login_as(client, team[who])
    page = decide(client, req, "approve")
    assert page.status_code == 403
    bulk = bulk_approve(client, req)
    if who == "lead":
        assert page_text(page).count("cannot approve your own proposal; the project office "
                                     "(administrators) can") == 1
        assert bulk.status_code == 200
        assert "cannot approve your own proposal" in page_text(bulk)
    elif who == "lead12":
        assert bulk.status_code == 422
        assert "in an area where you may not do this" in page_text(bulk)
    else:
        assert bulk.status_code == 403
    assert reload(req).state == State.PROPOSED
    assert events(req, Action.APPROVE) == []


def test_the_office_does_not_take_a_reviewers_proposal_from_the_lead(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    assert "It will go for approval to Erlan." in page_text(client.get(f"/requirements/{req.id}"))
    propose(client, req, "cancel")
    login_as(client, team["admin"])
    assert req.code not in page_text(client.get("/queue"))
    assert decide(client, req, "approve").status_code == 403
    assert decide(client, req, "return", "Нет").status_code == 403
    assert "1 requirement was skipped" in page_text(bulk_approve(client, req))
    assert reload(req).state == State.PROPOSED


def test_an_area_without_an_active_lead_is_decided_by_the_office(client, world, team):
    """An inactive lead cannot approve: the proposal does not wait for them."""
    team["lead"].active = False
    db.session.commit()
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    assert ("It will go for approval to the project office (administrators)."
            in page_text(client.get(f"/requirements/{req.id}")))
    propose(client, req, "cancel")
    login_as(client, team["admin"])
    assert req.code in page_text(client.get("/queue"))
    response = bulk_approve(client, req)
    assert "Approved 1 requirement." in page_text(response)
    assert reload(req).state == State.APPROVED


def test_dual_review_a_lone_lead_who_proposed_independently_leaves_it_to_the_office(
        client, world, team):
    team["fire"].dual_review = True
    db.session.commit()
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    propose(client, req, "cancel")
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    assert reload(req).state == State.PROPOSED

    login_as(client, team["lead"])
    assert decide(client, req, "approve").status_code == 403
    assert "waits for the project office" in page_text(client.get("/queue"))
    login_as(client, team["admin"])
    assert req.code in page_text(client.get("/queue"))
    decide(client, req, "approve")
    assert reload(req).state == State.APPROVED


# 12. What an import changed is in the history ------------------------------------------------

def imported(client, admin, *rows):
    """Import ``rows`` (tests.importing.row dicts) as ``admin``, through preview and confirm."""
    from tests.importing import csv_bytes
    from tests.test_imports import confirm, preview

    login_as(client, admin)
    ident, _page = preview(client, csv_bytes(list(rows)), name="перечень.csv")
    assert confirm(client, ident).status_code == 302


def test_an_import_that_changes_only_the_cost_leaves_a_trace(client, world, team):
    from tests.importing import row

    req = world.requirement(team["fire"], title="Огнетушители")
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    login_as(client, team["lead"])
    decide(client, req, "approve")
    version = reload(req).version

    imported(client, team["admin"], row(req.code, title="Огнетушители", text=req.text,
                                        annual_cost_kzt="2 000 000", oked="84.25"))
    saved = reload(req)
    assert saved.state == State.APPROVED and saved.annual_cost_kzt == 2_000_000
    [event] = events(req, Action.IMPORT_CHANGED)
    assert event.changes == {"oked": [None, "84.25"], "annual_cost_kzt": [1_500_000, 2_000_000]}
    assert (event.from_state, event.to_state) == (State.APPROVED, State.APPROVED)
    assert event.actor_id == team["admin"].id and event.version == saved.version == version + 1

    login_as(client, team["aigerim"])
    history = page_text(client.get(f"/requirements/{req.id}")).replace("\u00a0", " ")
    assert "Admin changed the data by import" in history
    assert "Estimated annual compliance cost: 1,500,000 ₸ → 2,000,000 ₸" in history
    assert "Business activity (OKED): — → 84.25" in history


@pytest.mark.parametrize("language, words", [
    ("ru", ["изменил(а) данные импортом",
            "Годовые затраты на исполнение (оценка): 1 500 000 ₸ → 7 ₸",
            "Статья, пункт: п. 12 → п. 14"]),
    ("kk", ["деректерді импорт арқылы өзгертті",
            "Орындауға жұмсалатын жылдық шығын (бағалау): 1 500 000 ₸ → 7 ₸",
            "Бап, тармақ: п. 12 → п. 14"]),
])
def test_the_import_trace_reads_in_russian_and_kazakh(client, world, team, language, words):
    req = world.requirement(team["fire"])
    from tests.importing import row

    imported(client, team["admin"], row(req.code, title=req.title, text=req.text,
                                        annual_cost_kzt="7", article="п. 14"))
    reader = world.user(f"reader{language}", reviewer_in=(team["fire"],), language=language)
    login_as(client, reader)
    history = page_text(client.get(f"/requirements/{req.id}")).replace("\u00a0", " ")
    for expected in words:
        assert expected in history


def test_a_new_text_and_other_fields_are_one_event(client, world, team):
    from tests.importing import row

    req = world.requirement(team["fire"], title="Огнетушители")
    new_text = req.text.replace("на каждом этаже", "в каждом помещении")
    imported(client, team["admin"], row(req.code, title="Огнетушители в зданиях",
                                        text=new_text, businesses_affected="120"))
    [event] = [e for e in events(req) if e.action != Action.PROPOSE]
    assert event.action == Action.WORDING_CHANGED
    assert (event.text, event.new_wording) == (req.text, new_text)
    assert event.changes == {"title": ["Огнетушители", "Огнетушители в зданиях"],
                             "businesses_affected": [None, 120]}
    login_as(client, team["aigerim"])
    history = page_text(client.get(f"/requirements/{req.id}"))
    assert "changed the wording" in history
    assert "Title: Огнетушители → Огнетушители в зданиях" in history
    assert "Businesses affected: — → 120" in history


def test_the_audit_log_lists_each_imported_change(client, world, team):
    from tests.importing import row

    req = world.requirement(team["fire"])
    imported(client, team["admin"], row(req.code, title=req.title, text=req.text,
                                        annual_cost_kzt="99"))
    log = page_text(client.get("/admin/audit/?kind=imports"))
    assert "changed the data by import" in log
    assert "Estimated annual compliance cost: 1,500,000 → 99" in log


def test_import_events_are_inserted_in_one_statement(client, world, team, count_queries):
    """The import bench's 10,000 rows must not cost a statement per event."""
    from tests.importing import csv_bytes, row
    from tests.test_imports import confirm, preview

    reqs = [world.requirement(team["fire"]) for _ in range(30)]
    login_as(client, team["admin"])
    ident, _page = preview(client, csv_bytes([row(r.code, title=r.title, text=r.text,
                                                  annual_cost_kzt=str(n))
                                              for n, r in enumerate(reqs)]), name="ф.csv")
    with count_queries() as statements:
        assert confirm(client, ident).status_code == 302
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO REVIEW_EVENTS")]
    assert len(inserts) == 1
    assert all(len(events(r, Action.IMPORT_CHANGED)) == 1 for r in reqs)
