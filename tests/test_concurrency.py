"""No lost decisions: two people acting on the same requirement, one after the other or at once."""

import threading

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.requirements.models import Decision, Requirement, State
from review_app.reviews.models import ReviewEvent
from tests.conftest import decide, login_as, page_text, propose, refused, reload


@pytest.fixture
def area(world):
    return world.area("07")


@pytest.fixture
def req(world, area):
    return world.requirement(area)


def event_count(req) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReviewEvent).where(
        ReviewEvent.requirement_id == req.id))


def test_stale_proposal_is_refused_with_the_current_state(app, world, area, req):
    first, second = app.test_client(), app.test_client()
    login_as(first, world.user("aigerim", reviewer_in=(area,)))
    login_as(second, world.user("bolat", reviewer_in=(area,)))
    seen = req.version  # both opened the page at this version

    assert propose(first, req, "cancel", version=seen).status_code == 302
    response = propose(second, req, "keep", version=seen,
                       justification="Требование необходимо и соразмерно.")
    text = page_text(refused(second, response))
    assert "Someone else changed this requirement" in text
    assert "Требование необходимо и соразмерно." in text  # what they typed, not lost
    assert "Nothing was saved" in text
    assert "Требование дублирует" in text  # the first proposal, shown as it is now
    req = reload(req)
    assert req.decision == Decision.CANCEL and event_count(req) == 1


def test_lead_acting_on_a_proposal_that_changed_meanwhile_is_refused(app, world, area, req):
    reviewer, lead = app.test_client(), app.test_client()
    login_as(reviewer, world.user("aigerim", reviewer_in=(area,)))
    login_as(lead, world.user("erlan", lead_in=(area,)))
    propose(reviewer, req, "cancel")
    seen_by_lead = reload(req).version
    # The reviewer's proposal is returned by a second lead and re-proposed as "keep"...
    other_lead = app.test_client()
    login_as(other_lead, world.user("dana", lead_in=(area,)))
    decide(other_lead, req, "return", "Перепроверьте")
    propose(reviewer, req, "keep")
    # ...so the first lead's approval, made on the "cancel" version, must not go through.
    response = decide(lead, req, "approve", version=seen_by_lead)
    assert "Someone else changed this requirement" in page_text(refused(lead, response))
    req = reload(req)
    assert req.state == State.PROPOSED and req.decision == Decision.KEEP


def test_simultaneous_approvals_write_exactly_one_event(app, world, area, req):
    reviewer = app.test_client()
    login_as(reviewer, world.user("aigerim", reviewer_in=(area,)))
    propose(reviewer, req, "cancel")
    version = reload(req).version
    leads = []
    for name in ("erlan", "dana", "marat", "olga"):
        client = app.test_client()
        login_as(client, world.user(name, lead_in=(area,)))
        leads.append(client)

    barrier = threading.Barrier(len(leads))
    statuses: list[int] = []
    refusals: list[tuple] = []
    url = f"/requirements/{req.id}/decide"
    forms = [{"action": "approve", "comment": "", "version": str(version),
              "csrf_token": c.csrf_token()} for c in leads]

    def approve(client, form):
        barrier.wait()
        response = client.post(url, data=form)
        statuses.append(response.status_code)
        if response.status_code == 303:
            refusals.append((client, response))

    threads = [threading.Thread(target=approve, args=pair)
               for pair in zip(leads, forms, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # One approval; the other three are refused (redirected to the page saying why).
    assert sorted(statuses) == [302, 303, 303, 303]
    for client, response in refusals:
        assert "Someone else changed this requirement" in page_text(refused(client, response))
    req = reload(req)
    assert req.state == State.APPROVED
    assert event_count(req) == 2  # one proposal, one approval


def test_reviewers_claiming_at_the_same_moment_never_get_the_same_requirement(app, world, area):
    for _ in range(6):
        world.requirement(area)
    clients = []
    for i in range(8):
        client = app.test_client()
        login_as(client, world.user(f"reviewer{i}", reviewer_in=(area,)))
        clients.append(client)
    tokens = [c.csrf_token() for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def claim(client, token):
        barrier.wait()
        statuses.append(client.post("/my-work/claim", data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=claim, args=pair)
               for pair in zip(clients, tokens, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [302] * 8
    db.session.expire_all()
    assignees = db.session.scalars(sa.select(Requirement.assignee_id)).all()
    assert None not in assignees, "six requirements for eight reviewers: all must be taken"
    assert len(set(assignees)) == 6, "nobody got a requirement someone else also got"
    claims = db.session.scalars(sa.select(ReviewEvent.requirement_id).where(
        ReviewEvent.action == "assign")).all()
    assert sorted(claims) == sorted(set(claims)) and len(claims) == 6
