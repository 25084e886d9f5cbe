"""Dual review: two independent proposals before the lead sees a requirement."""

import pytest
import sqlalchemy as sa

from review_app.auth.models import GlobalRole
from review_app.extensions import db
from review_app.requirements.models import Decision, State
from review_app.reviews.models import IndependentProposal
from tests.conftest import decide, login_as, page_text, propose, refused, reload


@pytest.fixture
def team(world):
    area = world.area("07")
    area.dual_review = True
    db.session.commit()
    return {
        "area": area,
        "aigerim": world.user("aigerim", reviewer_in=(area,)),
        "bolat": world.user("bolat", reviewer_in=(area,)),
        "lead": world.user("erlan", lead_in=(area,)),
        "admin": world.user("admin", role=GlobalRole.ADMIN),
    }


def test_first_proposal_waits_hidden_until_the_second_reviewer_proposes(client, world, team):
    req = world.requirement(team["area"])
    login_as(client, team["aigerim"])
    response = propose(client, req, "cancel", justification="Секретное обоснование А")
    assert response.status_code == 302
    req = reload(req)
    assert req.state == State.UNREVIEWED and req.decision is None
    assert "second reviewer" in page_text(client.get(f"/requirements/{req.id}"))
    # Proposing twice in the same round is refused.
    assert "already made your independent proposal" in page_text(
        refused(client, propose(client, req, "keep")))

    login_as(client, team["bolat"])
    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "Секретное обоснование А" not in page
    assert "Another reviewer has made an independent proposal" in page
    # The lead may propose in the area too, so it stays hidden from them as well, and nothing
    # reaches their queue yet.
    login_as(client, team["lead"])
    assert "Секретное обоснование А" not in page_text(client.get(f"/requirements/{req.id}"))
    assert "Nothing is waiting" in page_text(client.get("/queue"))

    login_as(client, team["bolat"])
    assert propose(client, req, "cancel", justification="Обоснование Б").status_code == 302
    req = reload(req)
    assert req.state == State.PROPOSED and not req.conflict
    page = page_text(client.get(f"/requirements/{req.id}"))
    assert "Секретное обоснование А" in page and "Обоснование Б" in page


def test_disagreement_is_a_conflict_the_lead_resolves_by_choosing(client, world, team):
    req = world.requirement(team["area"])
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    login_as(client, team["bolat"])
    propose(client, req, "keep", justification="Нужно сохранить")
    req = reload(req)
    assert req.conflict and req.state == State.PROPOSED

    login_as(client, team["lead"])
    assert "conflict" in page_text(client.get("/queue"))
    response = refused(client, decide(client, req, "approve"))
    assert "choose the one you approve" in page_text(response)
    keep = db.session.scalar(sa.select(IndependentProposal).where(
        IndependentProposal.decision == Decision.KEEP))
    response = client.post(f"/requirements/{req.id}/decide", data={
        "action": "approve", "comment": "", "version": str(req.version),
        "chosen_proposal": str(keep.id)})
    assert response.status_code == 302
    req = reload(req)
    assert req.state == State.APPROVED and req.decision == Decision.KEEP
    assert req.proposed_by_id == team["bolat"].id
    assert req.justification == "Нужно сохранить"


def test_return_starts_a_new_round_of_two_proposals(client, world, team):
    req = world.requirement(team["area"])
    for who in ("aigerim", "bolat"):
        login_as(client, team[who])
        propose(client, req, "cancel")
    login_as(client, team["lead"])
    decide(client, req, "return", "Проверьте ещё раз")
    login_as(client, team["aigerim"])
    assert propose(client, req, "keep").status_code == 302
    req = reload(req)
    assert req.state == State.RETURNED and req.review_round == 2


def test_a_lead_who_made_one_of_the_proposals_cannot_approve(client, world, team):
    req = world.requirement(team["area"])
    other_lead = world.user("olga", lead_in=(team["area"],))
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")
    login_as(client, team["lead"])
    propose(client, req, "cancel")
    assert decide(client, reload(req), "approve").status_code == 403
    login_as(client, other_lead)
    assert decide(client, reload(req), "approve").status_code == 302


def test_agreement_and_kappa_on_the_area_page(client, world, team):
    decisions = [("cancel", "cancel"), ("keep", "keep"), ("cancel", "keep"), ("revise", "revise")]
    for first, second in decisions:
        req = world.requirement(team["area"])
        login_as(client, team["aigerim"])
        propose(client, req, first)
        login_as(client, team["bolat"])
        propose(client, req, second)
    login_as(client, team["lead"])
    text = page_text(client.get("/areas/07"))
    # p_o = 3/4; p_e = (2*1 + 1*2 + 1*1) / 16 = 5/16; kappa = (0.75 - 0.3125) / 0.6875 = 0.64
    assert "75% of 4 pairs; Cohen's kappa 0.64" in text
    assert "1 conflict to resolve" in text


def test_only_admins_switch_dual_review(client, team):
    login_as(client, team["lead"])
    assert client.post("/areas/07/settings", data={"dual_review": "off"}).status_code == 403
    assert reload_area(team).dual_review is True
    login_as(client, team["admin"])
    assert client.post("/areas/07/settings", data={"dual_review": "maybe"}).status_code == 400
    assert client.post("/areas/07/settings", data={"dual_review": "off"}).status_code == 302
    assert reload_area(team).dual_review is False


def reload_area(team):
    db.session.expire_all()
    return db.session.get(type(team["area"]), team["area"].id)


def test_switching_dual_review_on_the_area_page_is_audited_like_the_admin_form(client, team):
    from review_app.audit.models import AuditAction, AuditEntry

    def area_updates():
        return list(db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == AuditAction.AREA_UPDATED).order_by(AuditEntry.id)))

    login_as(client, team["admin"])
    assert client.post("/areas/07/settings", data={"dual_review": "off"}).status_code == 302
    [entry] = area_updates()
    assert entry.details == {"dual_review": {"from": True, "to": False}}
    assert entry.actor_id == team["admin"].id and entry.area_id == team["area"].id
    # Saving what is already set changes nothing, so it writes nothing either (as the form).
    assert client.post("/areas/07/settings", data={"dual_review": "off"}).status_code == 302
    assert len(area_updates()) == 1
    # The lead's refused attempt changes nothing and is audited as refused, not as a change.
    login_as(client, team["lead"])
    assert client.post("/areas/07/settings", data={"dual_review": "on"}).status_code == 403
    assert len(area_updates()) == 1
