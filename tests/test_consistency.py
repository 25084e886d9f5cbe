"""The history checker agrees with the real workflow and catches a cache written beside it."""

import sqlalchemy as sa

from review_app import consistency
from review_app.extensions import db
from review_app.requirements.models import Decision, Requirement, State
from review_app.reviews.models import IndependentProposal
from tests.conftest import current_version, decide, login_as, propose, reload


def test_a_requirement_worked_through_every_step_holds_what_its_events_say(client, world):
    area = world.area("07")
    aigerim = world.user("aigerim", reviewer_in=(area,))
    bolat = world.user("bolat", reviewer_in=(area,))
    lead = world.user("erlan", lead_in=(area,))
    req, other = world.requirement(area), world.requirement(area)

    login_as(client, lead)
    assert client.post(f"/requirements/{req.id}/assign",
                       data={"assignee": str(aigerim.id)}).status_code == 302
    login_as(client, aigerim)
    assert propose(client, req, "cancel").status_code == 302
    login_as(client, lead)
    assert decide(client, req, "return", "Уточните обоснование.").status_code == 302
    assert client.post(f"/requirements/{req.id}/assign",
                       data={"assignee": str(bolat.id)}).status_code == 302
    login_as(client, bolat)
    assert propose(client, req, "revise").status_code == 302
    assert client.post(f"/requirements/{req.id}/comment",
                       data={"text": "Согласовано с отраслью."}).status_code == 302
    assert client.post(f"/requirements/{other.id}/assign",
                       data={"assignee": "me"}).status_code == 302
    login_as(client, lead)
    assert decide(client, req, "approve").status_code == 302
    assert client.post(f"/requirements/{req.id}/reopen", data={
        "reason": "Изменился закон", "version": str(current_version(req))}).status_code == 302

    req = reload(req)
    assert (req.state, req.review_round, req.assignee_id) == (State.RETURNED, 3, bolat.id)
    assert consistency.check(db.session) == []


def test_dual_review_approval_of_the_chosen_proposal_is_consistent(client, world):
    area = world.area("07")
    area.dual_review = True
    db.session.commit()
    aigerim = world.user("aigerim", reviewer_in=(area,))
    bolat = world.user("bolat", reviewer_in=(area,))
    lead = world.user("erlan", lead_in=(area,))
    req = world.requirement(area)
    login_as(client, aigerim)
    propose(client, req, "cancel")
    login_as(client, bolat)
    propose(client, req, "keep", justification="Нужно сохранить")
    cancel = db.session.scalar(sa.select(IndependentProposal).where(
        IndependentProposal.decision == Decision.CANCEL))
    login_as(client, lead)
    assert client.post(f"/requirements/{req.id}/decide", data={
        "action": "approve", "comment": "", "version": str(current_version(req)),
        "chosen_proposal": str(cancel.id)}).status_code == 302
    assert reload(req).decision == Decision.CANCEL
    assert consistency.check(db.session) == []


def test_an_assignee_or_state_set_without_its_event_is_reported(world):
    area = world.area("07")
    aigerim = world.user("aigerim", reviewer_in=(area,))
    req, untouched = world.requirement(area), world.requirement(area)
    # What the old demo seed did: an assignee and a decision, with no event saying so.
    db.session.execute(sa.update(Requirement).where(Requirement.id == req.id).values(
        assignee_id=aigerim.id, state=State.APPROVED, decision=Decision.KEEP))
    db.session.commit()

    found = consistency.check(db.session)
    assert {(m.code, m.column) for m in found} == {
        (req.code, "assignee_id"), (req.code, "state"), (req.code, "decision")}
    assert untouched.code not in {m.code for m in found}
    assert f"{req.code} (id {req.id}): assignee_id is {aigerim.id}, its events say None" in {
        str(m) for m in found}
    assert consistency.check(db.session, [untouched.id]) == []


def test_flask_check_history_says_what_disagrees_and_fails(runner, world):
    area = world.area("07")
    req = world.requirement(area)
    ok = runner.invoke(args=["check-history"])
    assert ok.exit_code == 0 and "1 requirement" in ok.output and "agree" in ok.output
    db.session.execute(sa.update(Requirement).values(review_round=2))
    db.session.commit()
    bad = runner.invoke(args=["check-history"])
    assert bad.exit_code == 1
    assert f"{req.code} (id {req.id}): review_round is 2, its events say 1" in bad.output
