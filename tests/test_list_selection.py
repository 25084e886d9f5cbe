"""One decision for the requirements ticked on the list: a reviewer ticks rows, opens them on one
page, proposes once, and each requirement gets its own event, version checked; whatever cannot
take it is skipped with the reason; anything forged is refused whole."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.audit.models import AuditAction, AuditEntry
from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import Decision, State
from review_app.reviews import workflow
from review_app.reviews.models import Action
from tests.conftest import events, login_as, page_text, propose, reload
from tests.test_fuzz import routes

SELECTION = "/requirements/selection"
PROPOSE = "/requirements/selection/propose"


@pytest.fixture
def work(world, team):
    """Four fire-safety requirements (one already approved) and one in transport."""
    fire = team["fire"]
    reqs = [world.requirement(fire) for _ in range(4)]
    return {"open": reqs[:3], "approved": reqs[3],
            "transport": world.requirement(team["transport"])}


def approve_now(req, team):
    workflow.propose(req, team["bolat"], decision=Decision.KEEP,
                     tests=workflow.Tests(legal=True, necessary=True, business_friendly=True),
                     justification="Соразмерно.", seen_version=req.version)
    db.session.flush()
    workflow.approve(req, team["lead"], comment="", seen_version=req.version)
    db.session.commit()


def ticks(reqs) -> list[str]:
    return [f"{r.id}:{reload(r).version}" for r in reqs]


def selection_form(reqs, decision="cancel", **overrides) -> dict:
    tests = {"cancel": ("no", "yes", "yes"), "revise": ("yes", "yes", "no"),
             "keep": ("yes", "yes", "yes")}[decision]
    data = {"legal": tests[0], "necessary": tests[1], "business_friendly": tests[2],
            "decision": decision, "justification": "Норма не опирается на закон.",
            "item": ticks(reqs), "back": "/requirements/?area=07&state=unreviewed"}
    data.update(overrides)
    return data


def denied_entries() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.DENIED))


# The list ---------------------------------------------------------------------------------------

def test_a_reviewer_gets_a_tick_with_the_version_seen_on_each_row_she_may_propose_on(
        client, team, work):
    approve_now(work["approved"], team)
    login_as(client, team["aigerim"])
    html = client.get("/requirements/").get_data(as_text=True)
    for req in work["open"]:
        assert f'name="item" value="{req.id}:{reload(req).version}" form="bulk"' in html
    assert "Propose one decision for the ticked" in html
    assert "Tick every row on this page" in html
    # The approved one: a disabled tick that says why, and no value to send.
    approved = re.search(rf'<input type="checkbox" disabled id="tick-{work["approved"].id}"'
                         r'[^>]*aria-label="([^"]*)"', html)
    assert approved and "nothing to propose now" in approved.group(1)
    assert 'name="give_to"' not in html  # assigning stays the lead's


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_people_who_propose_nowhere_see_no_proposal_ticks(client, team, work, who):
    login_as(client, team[who])
    html = client.get("/requirements/").get_data(as_text=True)
    assert "Propose one decision for the ticked" not in html
    if who == "manager":
        assert 'name="item"' not in html and "data-bulk" not in html


def test_a_lead_ticks_once_for_both_assigning_and_proposing(client, team, work):
    login_as(client, team["lead"])
    html = client.get("/requirements/").get_data(as_text=True)
    assert 'name="give_to"' in html and "Propose one decision for the ticked" in html
    assert html.count('form="bulk"') == 4  # one tick per row of his area, for both actions
    # The tick's id:version still assigns.
    response = client.post("/requirements/assign", data={
        "item": ticks(work["open"][:1]), "give_to": str(team["aigerim"].id)})
    assert "Assigned 1 requirement" in page_text(client.get(response.location))
    assert reload(work["open"][0]).assignee_id == team["aigerim"].id


# The selection page and the proposal ---------------------------------------------------------

def test_the_ticked_requirements_open_on_one_page_with_the_shared_decision_form(
        client, team, work, world):
    db.session.add(JustificationTemplate(area_id=team["fire"].id, text_kk="Заң жоқ.",
                                         text_ru="Нет закона.", text_en="No law behind it."))
    db.session.commit()
    login_as(client, team["aigerim"])
    response = client.post(SELECTION, data={"item": ticks(work["open"][:2]),
                                            "back": "/requirements/?area=07"})
    assert response.status_code == 200
    text = page_text(response)
    assert "2 requirements ticked" in text
    for req in work["open"][:2]:
        assert req.code in text and req.title in text
    assert work["open"][2].code not in text
    assert "No law behind it." in text  # the area's standard justification
    assert "Is it legal?" in text and "Why the decision differs" in text
    assert 'href="/requirements/?area=07"' in response.get_data(as_text=True)
    # The same by GET (a link to it), nothing written either way.
    assert client.get(SELECTION, query_string={"item": ticks(work["open"][:1])}).status_code == 200
    assert all(reload(r).state == State.UNREVIEWED for r in work["open"])


def test_each_ticked_requirement_gets_its_own_proposal_event(client, team, work):
    login_as(client, team["aigerim"])
    template = JustificationTemplate(area_id=None, text_kk="Заң жоқ.", text_ru="Нет закона.",
                                     text_en="No law.")
    db.session.add(template)
    db.session.commit()
    response = client.post(PROPOSE, data=selection_form(work["open"], template=str(template.id)))
    assert response.status_code == 303
    result = client.get(response.location)
    text = page_text(result)
    assert "Proposed for 3 requirements." in text
    assert 'href="/requirements/?area=07&amp;state=unreviewed"' in result.get_data(as_text=True)
    for req in work["open"]:
        req = reload(req)
        assert req.state == State.PROPOSED and req.decision == Decision.CANCEL
        assert req.proposed_by_id == team["aigerim"].id
        assert [e.actor_id for e in events(req, Action.PROPOSE)] == [team["aigerim"].id]
    assert db.session.get(JustificationTemplate, template.id).usage_count == 1


def test_a_requirement_changed_since_it_was_ticked_is_skipped_with_the_reason(
        client, team, work):
    approve_now(work["approved"], team)
    login_as(client, team["aigerim"])
    form = selection_form([*work["open"], work["approved"]])
    login_as(client, team["bolat"])
    propose(client, work["open"][1], "keep")  # after aigerim ticked it
    login_as(client, team["aigerim"])
    page = page_text(client.post(SELECTION, data={"item": form["item"]}))
    assert "Changed since you ticked it" in page
    response = client.post(PROPOSE, data=form)
    result = page_text(client.get(response.location))
    assert "Proposed for 2 requirements." in result
    assert "2 requirements were skipped" in result and "Someone else changed" in result
    assert re.search(rf"{work['approved'].code} .* is “approved” now, so this action is not "
                     "possible", result, re.I)
    assert reload(work["open"][1]).decision == Decision.KEEP
    assert len(events(work["open"][1], Action.PROPOSE)) == 1
    assert reload(work["approved"]).state == State.APPROVED


def test_revise_takes_each_ticked_requirements_own_wording(client, team, work):
    login_as(client, team["aigerim"])
    first, second = work["open"][:2]
    form = selection_form([first, second], "revise")
    form[f"wording-{first.id}"] = "Огнетушители проверяются раз в год."
    form[f"wording-{second.id}"] = ""
    result = page_text(client.get(client.post(PROPOSE, data=form).location))
    assert "Proposed for 1 requirement." in result and "needs the proposed new wording" in result
    assert reload(first).new_wording == "Огнетушители проверяются раз в год."
    assert reload(second).state == State.UNREVIEWED


def test_an_incomplete_form_saves_nothing_and_keeps_the_text(client, team, work):
    login_as(client, team["aigerim"])
    response = client.post(PROPOSE, data=selection_form(
        work["open"], decision="cancel", legal="", justification="Мой длинный текст обоснования."))
    assert response.status_code == 422
    text = page_text(response)
    assert "Answer this question." in text and "Мой длинный текст обоснования." in text
    assert all(req.code in text for req in work["open"])
    response = client.post(PROPOSE, data=selection_form(
        work["open"][:1], "revise", **{f"wording-{work['open'][0].id}": "ы" * 50_001}))
    assert response.status_code == 422 and "too long" in page_text(response)
    # Every tick removed on the page: nothing to propose for, and the text is still there.
    response = client.post(PROPOSE, data=selection_form(
        [], item=[], justification="Мой длинный текст обоснования."))
    assert response.status_code == 422
    assert "tick at least one" in page_text(response)
    assert "Мой длинный текст обоснования." in page_text(response)
    assert all(reload(r).state == State.UNREVIEWED for r in work["open"])
    assert not events(work["open"][0], Action.PROPOSE)


# Refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("item", ["1" * 20 + ":1", "\x00:1", "²:1", "-3:1", "7", "7:", "7:x",
                                  "7:-1", "7:0", "", ":"])
@pytest.mark.parametrize("url", [SELECTION, PROPOSE])
def test_a_malformed_tick_is_refused_with_400_and_a_message(client, team, work, item, url):
    login_as(client, team["aigerim"])
    response = client.post(url, data=selection_form(work["open"][:1],
                                                    item=[*ticks(work["open"][:1]), item]))
    assert response.status_code == 400
    # A NUL byte is stopped at the app's edge, with its own message.
    assert ("The selection is malformed" if "\x00" not in item
            else "control character") in page_text(response)
    assert reload(work["open"][0]).state == State.UNREVIEWED


@pytest.mark.parametrize("url", [SELECTION, PROPOSE])
def test_more_than_the_bulk_limit_or_nothing_ticked_is_refused_with_422(
        client, team, work, url, monkeypatch):
    login_as(client, team["aigerim"])
    monkeypatch.setattr(workflow, "MAX_BULK", 2)
    response = client.post(url, data=selection_form(work["open"]))
    assert response.status_code == 422 and "at most 2" in page_text(response)
    response = client.post(url, data=selection_form([], item=[]))
    assert response.status_code == 422 and "tick at least one" in page_text(response)
    response = client.post(url, data=selection_form(work["open"][:1], scope="filter"))
    assert response.status_code == 422 and "ticked requirements only" in page_text(response)
    assert all(reload(r).state == State.UNREVIEWED for r in work["open"])


@pytest.mark.parametrize("url", [SELECTION, PROPOSE])
def test_a_forged_tick_from_another_area_refuses_the_whole_request(client, team, work, url,
                                                                   caplog):
    login_as(client, team["aigerim"])
    before = denied_entries()
    response = client.post(url, data=selection_form([work["open"][0], work["transport"]]))
    assert response.status_code == 403
    assert "permission denied: user=aigerim@example.kz action=propose-selection" in caplog.text
    assert denied_entries() == before + 1
    assert reload(work["open"][0]).state == State.UNREVIEWED
    assert reload(work["transport"]).state == State.UNREVIEWED
    # An id that does not exist is refused the same way (its absence says nothing).
    response = client.post(url, data=selection_form([], item=["999999:1"]))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["manager", "admin", "lead12"])
def test_someone_who_may_not_propose_there_is_refused(client, team, work, who):
    login_as(client, team[who])
    for url in (SELECTION, PROPOSE):
        response = client.post(url, data=selection_form(work["open"][:2]))
        assert response.status_code == 403
    assert all(reload(r).state == State.UNREVIEWED for r in work["open"])


def test_a_signed_out_person_is_sent_to_sign_in(client, work):
    for url in (SELECTION, PROPOSE):
        response = client.post(url, data=selection_form(work["open"][:1]))
        assert response.status_code in (302, 303) and "/login" in response.location
    assert reload(work["open"][0]).state == State.UNREVIEWED


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/requirements/",
                                  "/admin/users/", "/requirements/\\evil", "javascript:alert(1)"])
def test_back_to_the_list_is_only_ever_the_list(client, team, work, back):
    login_as(client, team["aigerim"])
    page = client.post(SELECTION, data={"item": ticks(work["open"][:1]), "back": back})
    html = page.get_data(as_text=True)
    assert 'data-testid="back-to-list"' in html
    assert re.search(r'href="/requirements/"[^>]*data-testid="back-to-list"', html)
    response = client.post(PROPOSE, data=selection_form(work["open"][:1], back=back))
    result = client.get(response.location).get_data(as_text=True)
    assert "evil" not in result and "/admin/users/" not in result


def test_the_fuzz_test_reaches_the_new_routes(app):
    found = {(method, text) for method, text, _rule in routes(app)}
    assert ("POST", SELECTION) in found and ("GET", SELECTION) in found
    assert ("POST", PROPOSE) in found
