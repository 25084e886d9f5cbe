"""The reviewer's proposal and the lead's approve / return, as the users experience them."""

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.requirements.models import Decision, State
from review_app.reviews.models import Action, AppendOnlyError
from tests.conftest import (
    decide,
    events,
    login_as,
    page_text,
    proposal,
    propose,
    refused,
    reload,
)


@pytest.fixture
def area(world):
    return world.area("07")


@pytest.fixture
def reviewer(world, area):
    return world.user("aigerim", reviewer_in=(area,))


@pytest.fixture
def lead(world, area):
    return world.user("erlan", lead_in=(area,))


@pytest.fixture
def req(world, area):
    return world.requirement(area)




def test_reviewer_proposes_cancel_and_lead_approves(client, reviewer, lead, req):
    login_as(client, reviewer)
    response = propose(client, req, "cancel")
    assert response.status_code == 302
    req = reload(req)
    assert req.state == State.PROPOSED
    assert req.decision == Decision.CANCEL
    assert req.proposed_by_id == reviewer.id
    assert req.test_legal is False

    login_as(client, lead)
    response = decide(client, req, "approve", "Согласен")
    assert response.status_code == 302
    req = reload(req)
    assert req.state == State.APPROVED
    assert req.decided_by_id == lead.id
    history = events(req)
    assert [e.action for e in history] == [Action.PROPOSE, Action.APPROVE]
    assert [(e.from_state, e.to_state) for e in history] == [
        (State.UNREVIEWED, State.PROPOSED), (State.PROPOSED, State.APPROVED)]
    assert history[0].actor_id == reviewer.id and history[1].actor_id == lead.id
    assert history[0].text.startswith("Требование дублирует")
    assert req.version == 3 and history[-1].version == 3

    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "Aigerim" in page and "Erlan" in page and "Согласен" in page


def test_revise_needs_new_wording_and_shows_a_diff(client, reviewer, req):
    login_as(client, reviewer)
    response = propose(client, req, "revise", new_wording="")
    response = refused(client, response)
    assert "new wording" in page_text(response)
    assert reload(req).state == State.UNREVIEWED

    response = propose(client, req, "revise",
                       new_wording="Субъекты обязаны обеспечить наличие огнетушителей на объекте.")
    assert response.status_code == 302
    html = client.get(f"/requirements/{req.id}").get_data(as_text=True)
    assert "<del>" in html and "каждом этаже" in html


def test_unchanged_wording_is_not_a_revision(client, reviewer, req):
    login_as(client, reviewer)
    response = propose(client, req, "revise", new_wording=req.text)
    response = refused(client, response)
    assert "same as the current text" in page_text(response)


def test_justification_is_required(client, reviewer, req):
    login_as(client, reviewer)
    response = propose(client, req, "cancel", justification="   ")
    response = refused(client, response)
    assert "Explain the decision" in page_text(response)
    assert events(req) == []


def test_all_three_tests_must_be_answered(client, reviewer, req):
    login_as(client, reviewer)
    response = propose(client, req, "keep", necessary="")
    response = refused(client, response)
    assert "Answer this question" in page_text(response)


@pytest.mark.parametrize("field,value", [("decision", "abolish"), ("legal", "maybe"),
                                         ("version", "abc"), ("version", "-3")])
def test_garbage_in_the_proposal_is_refused(client, reviewer, req, field, value):
    login_as(client, reviewer)
    data = proposal("cancel", version=req.version)
    data[field] = value
    response = client.post(f"/requirements/{req.id}/propose", data=data)
    response = refused(client, response)
    assert reload(req).state == State.UNREVIEWED


def test_a_decision_against_the_tests_needs_a_reason(client, reviewer, req):
    login_as(client, reviewer)
    # "necessary" is no, which suggests cancel; keeping it needs an explicit reason.
    response = propose(client, req, "keep", necessary="no")
    response = refused(client, response)
    text = page_text(response)
    assert "The tests suggest “cancel”, but you chose “keep”" in text
    assert reload(req).state == State.UNREVIEWED

    response = propose(client, req, "keep", necessary="no",
                       deviation_reason="Отмена требует изменения закона; пока сохраняем.")
    assert response.status_code == 302
    req = reload(req)
    assert req.decision == Decision.KEEP
    assert req.deviation_reason.startswith("Отмена требует")
    assert events(req)[0].deviation_reason == req.deviation_reason


def test_return_needs_a_comment_and_can_be_proposed_again(client, reviewer, lead, req):
    login_as(client, reviewer)
    propose(client, req, "cancel")
    login_as(client, lead)
    response = decide(client, req, "return", "")
    response = refused(client, response)
    assert "returning needs a comment" in page_text(response)
    assert reload(req).state == State.PROPOSED

    assert decide(client, req, "return", "Уточните правовое основание").status_code == 302
    assert reload(req).state == State.RETURNED

    login_as(client, reviewer)
    page = client.get(f"/requirements/{req.id}")
    assert "Propose again" in page_text(page)
    assert propose(client, req, "revise").status_code == 302
    req = reload(req)
    assert req.state == State.PROPOSED and req.decision == Decision.REVISE
    assert req.decided_by_id is None
    assert [e.action for e in events(req)] == [Action.PROPOSE, Action.RETURN, Action.PROPOSE]


def test_cannot_approve_what_is_not_proposed(client, lead, req):
    login_as(client, lead)
    response = decide(client, req, "approve")
    response = refused(client, response)
    assert "unreviewed" in page_text(response)
    assert events(req) == []


def test_cannot_propose_over_an_approved_decision(client, reviewer, lead, req):
    login_as(client, reviewer)
    propose(client, req, "keep")
    login_as(client, lead)
    decide(client, req, "approve")
    login_as(client, reviewer)
    response = propose(client, req, "cancel")
    response = refused(client, response)
    assert "“approved” now" in page_text(response)
    assert reload(req).decision == Decision.KEEP


def test_unknown_decide_action_changes_nothing(client, reviewer, lead, req):
    login_as(client, reviewer)
    propose(client, req, "keep")
    login_as(client, lead)
    response = decide(client, req, "delete")
    response = refused(client, response)
    assert reload(req).state == State.PROPOSED


def test_history_is_append_only_in_the_orm_and_the_database(client, reviewer, req):
    login_as(client, reviewer)
    propose(client, req, "cancel")
    event = events(req)[0]
    event.text = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("UPDATE review_events SET text = 'x'"))
    db.session.rollback()
    with pytest.raises(sa.exc.DBAPIError):
        db.session.execute(sa.text("DELETE FROM review_events"))
    db.session.rollback()
    assert events(req)[0].text.startswith("Требование дублирует")


def test_oversized_justification_is_refused(client, reviewer, req):
    login_as(client, reviewer)
    response = propose(client, req, "cancel", justification="я" * 10_001)
    response = refused(client, response)
    assert events(req) == []
