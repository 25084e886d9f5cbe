"""Gaps people met in the workflow: a lead's own proposal with nobody to approve it, imports that
changed a requirement without a trace, and pages that left them stranded after acting."""

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.requirements.models import State
from review_app.reviews.models import Action
from tests.conftest import decide, events, login_as, page_text, propose, reload


def item(req):
    return f"{req.id}:{reload(req).version}"


def bulk_approve(client, *reqs):
    """Approve in bulk from the queue; the result page it redirects to (or the refusal)."""
    response = client.post("/queue/decide", data={"action": "approve",
                                                  "item": [item(r) for r in reqs]})
    if response.status_code == 303:
        assert "/bulk/" in response.location
        return client.get(response.location)
    return response


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
        assert "in an area where you may not do this" in page_text(bulk)
        assert "Nothing was changed." in page_text(bulk)
    else:
        assert bulk.status_code == 403
    assert reload(req).state == State.PROPOSED
    assert events(req, Action.APPROVE) == []


def test_an_admin_who_proposed_is_not_the_office_for_that_proposal(client, world, team):
    """Four-eyes holds for the project office too: an admin who also reviews in the area and
    proposed there cannot approve it; another admin can."""
    team["lead"].active = False
    reviewing_admin = world.user("office1", role=GlobalRole.ADMIN, reviewer_in=(team["fire"],))
    db.session.commit()
    req = world.requirement(team["fire"])
    login_as(client, reviewing_admin)
    propose(client, req, "cancel")
    assert decide(client, req, "approve").status_code == 403
    assert "cannot approve your own proposal" in page_text(bulk_approve(client, req))
    assert reload(req).state == State.PROPOSED
    login_as(client, team["admin"])
    decide(client, req, "approve")
    assert reload(req).state == State.APPROVED


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


# 13. On to the next item; landing; bulk result; refusals that survive a reload ----------------

def link_from(html: str, req) -> str:
    """The address a list page links ``req`` with (it carries the list as ``from``)."""
    found = re.search(rf'href="(/requirements/{req.id}\?from=[^"#]*)"', html)
    assert found, f"no link to {req.code}"
    return unescape(found.group(1))


def went_to(response) -> tuple[str, str | None]:
    """Where a redirect goes: the path, and the list it carries."""
    parts = urlsplit(response.location)
    return parts.path, dict(parse_qsl(parts.query)).get("from")


def hidden_from(page) -> str:
    found = re.search(r'name="from" value="([^"]*)"', page.get_data(as_text=True))
    assert found, "the form does not carry the list"
    return unescape(found.group(1))


def test_a_reviewer_goes_through_the_filtered_list_in_its_order(client, world, team):
    area = team["fire"]
    a, b, c, d = (world.requirement(area, code=f"MCS-07-{n}") for n in (1, 2, 3, 4))
    other = world.requirement(team["transport"], code="MCS-07-25")  # not in the filter
    login_as(client, team["bolat"])
    propose(client, c, "keep")  # waiting for the lead: nothing for a reviewer to do

    login_as(client, team["aigerim"])
    listing = client.get("/requirements/?area=07&sort=-code").get_data(as_text=True)
    page = client.get(link_from(listing, d))
    assert "Back to the list" in page_text(page)
    origin = hidden_from(page)
    assert origin == "list?area=07&sort=-code"

    response = propose(client, d, "cancel", **{"from": origin})
    assert response.status_code == 302
    # Descending codes: after 4 comes 3, which waits for the lead, so 2.
    assert went_to(response) == (f"/requirements/{b.id}", "list?area=07&sort=-code")
    page = client.get(response.location)
    assert f"Your proposal was recorded and waits for the area lead. Next in your list: {b.code}" \
        in page_text(page)
    response = propose(client, b, "cancel", **{"from": hidden_from(page)})
    assert response.location.startswith(f"/requirements/{a.id}?from=")
    response = propose(client, a, "cancel", **{"from": hidden_from(client.get(response.location))})
    assert response.location == "/requirements/?area=07&sort=-code"
    assert "Nothing more in this list is waiting for you." in page_text(
        client.get(response.location))
    assert reload(other).state == State.UNREVIEWED


def test_a_lead_goes_through_the_queue_oldest_first_skipping_their_own(client, world, team):
    reqs = [world.requirement(team["fire"]) for _ in range(4)]
    for n, req in enumerate(reqs):
        login_as(client, team["lead"] if n == 1 else team["aigerim"])
        propose(client, req, "cancel")
    first, own, second, third = reqs
    login_as(client, team["lead"])
    queue = client.get("/queue").get_data(as_text=True)
    origin = hidden_from(client.get(link_from(queue, first)))
    assert origin == "queue"

    response = client.post(f"/requirements/{first.id}/decide", data={
        "action": "approve", "comment": "", "version": str(reload(first).version),
        "from": origin})
    assert response.location == f"/requirements/{second.id}?from=queue"
    response = client.post(f"/requirements/{second.id}/decide", data={
        "action": "return", "comment": "Уточните", "version": str(reload(second).version),
        "from": origin})
    assert response.location == f"/requirements/{third.id}?from=queue"
    response = client.post(f"/requirements/{third.id}/decide", data={
        "action": "approve", "comment": "", "version": str(reload(third).version),
        "from": origin})
    assert response.location == "/queue"
    assert reload(own).state == State.PROPOSED


def test_my_work_goes_on_to_my_next_assignment(client, world, team):
    mine = [world.requirement(team["fire"], assignee_id=team["aigerim"].id) for _ in range(2)]
    world.requirement(team["fire"])  # not assigned to her
    login_as(client, team["aigerim"])
    html = client.get("/my-work").get_data(as_text=True)
    page = client.get(link_from(html, mine[0]))
    assert hidden_from(page) == "my-work"
    response = propose(client, mine[0], "keep", **{"from": "my-work"})
    assert response.location == f"/requirements/{mine[1].id}?from=my-work"
    response = propose(client, mine[1], "keep", **{"from": "my-work"})
    assert response.location == "/my-work"


@pytest.mark.parametrize("bad", [
    "https://evil.example/phish", "//evil.example", "list?area=99", "queue?next=/x",
    "list?sort=nonsense", "admin?area=07", "list?" + "q=я&" * 400, "list?area=07&area=12"])
def test_a_bad_from_is_ignored_not_followed(client, world, team, bad):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    page = client.get(f"/requirements/{req.id}", query_string={"from": bad})
    assert page.status_code == 200 and "Back to the list" not in page_text(page)
    response = propose(client, req, "cancel", **{"from": bad})
    assert response.status_code == 302 and response.location == f"/requirements/{req.id}"


def test_a_lead_lands_on_the_queue_after_signing_in(client, world, team):
    assert login_as(client, team["lead"]).location == "/queue"
    assert login_as(client, team["aigerim"]).location == "/requirements/"
    client.post("/logout", data={})
    response = client.post("/login?next=/my-work", data={
        "email": team["lead"].email, "password": "correct horse 42", "next": "/my-work"})
    assert response.location == "/my-work"  # an explicit destination still wins


def test_the_bulk_result_lists_what_it_approved(client, world, team):
    reqs = [world.requirement(team["fire"]) for _ in range(2)]
    login_as(client, team["aigerim"])
    for req in reqs:
        propose(client, req, "cancel")
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={"action": "approve",
                                                  "item": [item(r) for r in reqs]})
    assert response.status_code == 303
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    done = html[html.index('data-testid="done"'):html.index("</table>")]
    assert all(req.code in done and req.title in done for req in reqs)
    assert "Approved 2 requirements." in page_text(page)

    # Reloading the result shows it again and approves nothing twice.
    assert all(r.code in page_text(client.get(response.location)) for r in reqs)
    assert all(len(events(r, Action.APPROVE)) == 1 for r in reqs)
    # The address shows nothing to anyone else.
    login_as(client, team["lead12"])
    other = client.get(response.location)
    assert other.status_code == 302 and reqs[0].code not in page_text(other)


def test_a_refused_proposal_survives_a_reload_without_sending_it_again(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    wording = "Новая редакция. " * 3_000  # 48,000 characters: far more than a cookie holds
    response = propose(client, req, "revise", justification="", new_wording=wording)
    assert response.status_code == 303 and "/propose" not in response.location
    assert len(response.headers.get("Set-Cookie", "")) < 2_000
    for _reload in range(2):  # the page, then the same address again
        page = client.get(response.location)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "The proposal was not saved: correct the fields marked below." in page_text(page)
        assert "Explain the decision." in page_text(page)
        assert wording.strip() in unescape(html)
        assert '<input checked id="decision-1" name="decision"' in html  # revise, as chosen
    assert events(req) == [] and reload(req).state == State.UNREVIEWED

    # The address shows nothing to anyone else, nor on another requirement.
    login_as(client, team["bolat"])
    assert "Новая редакция" not in client.get(response.location).get_data(as_text=True)
    login_as(client, team["aigerim"])
    other = world.requirement(team["fire"])
    token = response.location.split("draft=")[1]
    assert "Новая редакция" not in client.get(
        f"/requirements/{other.id}?draft={token}").get_data(as_text=True)


def test_a_stale_decision_keeps_the_leads_comment_across_the_redirect(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    seen = reload(req).version
    olga = world.user("olga", lead_in=(team["fire"],))
    other = client.application.test_client()
    login_as(other, olga)
    decide(other, req, "return", "Уточните основание")
    login_as(client, team["lead"])
    response = decide(client, req, "return", "Мой подробный комментарий", version=seen)
    assert response.status_code == 303
    text = page_text(client.get(response.location))
    assert "Someone else changed this requirement" in text
    assert "Мой подробный комментарий" in text
    assert len(events(req, Action.RETURN)) == 1
