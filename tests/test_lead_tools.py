"""An area lead runs an area: queue, bulk decisions, reopening, assignment, progress."""

import re

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.requirements.models import Requirement, State
from review_app.reviews.models import Action, ReviewEvent
from tests.conftest import decide, events, login_as, page_text, propose, refused, reload


def proposed(client, world, team, n, decision="cancel", reviewer="aigerim", area="fire"):
    reqs = [world.requirement(team[area]) for _ in range(n)]
    login_as(client, team[reviewer])
    for req in reqs:
        assert propose(client, req, decision).status_code == 302
    return [reload(r) for r in reqs]


def item(req):
    return f"{req.id}:{reload(req).version}"


def result(client, response):
    """A bulk action answers with a redirect to its result (Post/Redirect/Get, so a reload
    does not run it again); follow it."""
    assert response.status_code == 303 and "/bulk/" in response.location, response.status_code
    page = client.get(response.location)
    assert page.status_code == 200
    return page


# The queue ------------------------------------------------------------------------------------

def test_queue_shows_waiting_proposals_oldest_first_with_what_is_needed(client, world, team):
    first, second = proposed(client, world, team, 2)
    revise = proposed(client, world, team, 1, "revise")[0]
    world.requirement(team["fire"], title="Ещё не рассмотрено")
    login_as(client, team["lead"])
    response = client.get("/queue")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    codes = re.findall(r'class="code" href="/requirements/\d+[^"]*">([^<]+)<', html)
    assert codes == [first.code, second.code, revise.code]
    text = page_text(response)
    assert "Требование дублирует" in text and "Ещё не рассмотрено" not in text
    assert "<del>" in html and "<ins>" in html  # the revision's wording diff
    assert "3 proposals, oldest first" in text


def test_queue_filters_like_the_list(client, world, team):
    proposed(client, world, team, 1, "cancel")
    keep = proposed(client, world, team, 1, "keep")[0]
    login_as(client, team["lead"])
    response = client.get("/queue?decision=keep")
    assert re.findall(r'class="code" href="/requirements/\d+[^"]*">([^<]+)<',
                      response.get_data(as_text=True)) == [keep.code]
    assert client.get("/queue?area=zzz").status_code == 400


# Admins have a queue too, of the proposals no lead can decide: tests/test_workflow_gaps.py.
@pytest.mark.parametrize("who", ["aigerim", "manager"])
def test_queue_is_for_leads_only(client, team, who):
    login_as(client, team[who])
    assert client.get("/queue").status_code == 403


def test_queue_does_not_show_other_areas(client, world, team):
    other = proposed(client, world, team, 1, reviewer="outsider", area="transport")[0]
    login_as(client, team["lead"])
    assert other.code not in page_text(client.get("/queue"))


# Bulk decisions ------------------------------------------------------------------------------

def test_bulk_approve_gives_each_requirement_its_own_event(client, world, team):
    reqs = proposed(client, world, team, 3)
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={
        "action": "approve", "comment": "Согласовано пакетом", "item": [item(r) for r in reqs]})
    response = result(client, response)
    assert "Approved 3 requirements." in page_text(response)
    for req in reqs:
        req = reload(req)
        assert req.state == State.APPROVED and req.decided_by_id == team["lead"].id
        approvals = events(req, Action.APPROVE)
        assert len(approvals) == 1 and approvals[0].text == "Согласовано пакетом"


def test_bulk_skips_what_the_lead_may_not_decide_and_says_why(client, world, team):
    good = proposed(client, world, team, 1)[0]
    stale = proposed(client, world, team, 1)[0]
    stale_item = item(stale)
    not_proposed = world.requirement(team["fire"])
    login_as(client, team["lead"])
    own = world.requirement(team["fire"])
    propose(client, own, "keep")
    # Meanwhile another lead returns "stale", so the version the lead saw is old.
    other_lead = world.user("olga", lead_in=(team["fire"],))
    second = client.application.test_client()
    login_as(second, other_lead)
    decide(second, stale, "return", "Уточните")
    propose(client, reload(stale), "keep")  # re-proposed by the lead: proposed again

    response = client.post("/queue/decide", data={"action": "approve", "item": [
        item(good), stale_item, f"{not_proposed.id}:1", item(own)]})
    text = page_text(result(client, response))
    assert "3 requirements were skipped" in text
    assert "Someone else changed this requirement" in text
    assert "“unreviewed” now" in text
    assert "cannot approve your own proposal" in text
    assert reload(good).state == State.APPROVED
    assert reload(stale).state == State.PROPOSED
    assert reload(own).state == State.PROPOSED


def test_bulk_return_needs_a_comment(client, world, team):
    reqs = proposed(client, world, team, 2)
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={"action": "return", "comment": " ",
                                                  "item": [item(r) for r in reqs]})
    response = result(client, response)
    assert "returning needs a comment" in page_text(response)
    assert all(reload(r).state == State.PROPOSED for r in reqs)


def test_bulk_approve_all_matching_the_filter(client, world, team):
    cancels = proposed(client, world, team, 3, "cancel")
    keep = proposed(client, world, team, 1, "keep")[0]
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={"action": "approve", "scope": "filter",
                                                  "decision": "cancel"})
    response = result(client, response)
    assert all(reload(r).state == State.APPROVED for r in cancels)
    assert reload(keep).state == State.PROPOSED


@pytest.mark.parametrize("items,message", [
    ([], "Nothing was selected"),
    (["999999:1"], "does not exist"),
    (["abc"], "malformed"),
    ([f"{i}:1" for i in range(100_000)], "at most 5000"),
])
def test_bad_bulk_selections_change_nothing(client, world, team, items, message):
    reqs = proposed(client, world, team, 1)
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={"action": "approve",
                                                  "item": items + [item(reqs[0])]
                                                  if items and items[0] == "999999:1" else items})
    response = result(client, response)
    assert message in page_text(response) and "Nothing was changed" in page_text(response)
    assert reload(reqs[0]).state == State.PROPOSED


def test_bulk_with_another_areas_requirement_is_refused_whole(client, world, team):
    mine = proposed(client, world, team, 1)[0]
    theirs = proposed(client, world, team, 1, reviewer="outsider", area="transport")[0]
    login_as(client, team["lead"])
    response = client.post("/queue/decide", data={"action": "approve",
                                                  "item": [item(mine), item(theirs)]})
    response = result(client, response)
    assert "is in an area where you may not do this" in page_text(response)
    assert reload(mine).state == State.PROPOSED and reload(theirs).state == State.PROPOSED


@pytest.mark.parametrize("who", ["aigerim", "manager"])
def test_bulk_decide_is_for_leads_only(client, world, team, who):
    reqs = proposed(client, world, team, 1)
    login_as(client, team[who])
    assert client.post("/queue/decide", data={"action": "approve",
                                              "item": [item(reqs[0])]}).status_code == 403
    assert reload(reqs[0]).state == State.PROPOSED


# Reopening -----------------------------------------------------------------------------------

def approved(client, world, team):
    req = proposed(client, world, team, 1)[0]
    login_as(client, team["lead"])
    decide(client, req, "approve")
    return reload(req)


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_lead_or_admin_reopens_with_a_reason(client, world, team, who):
    req = approved(client, world, team)
    login_as(client, team[who])
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "Изменился закон", "version": str(req.version)})
    assert response.status_code == 302
    req = reload(req)
    assert req.state == State.RETURNED
    reopen = events(req, Action.REOPEN)[0]
    assert reopen.text == "Изменился закон" and reopen.actor_id == team[who].id
    assert "Изменился закон" in page_text(client.get(f"/requirements/{req.id}"))


def test_reopening_needs_a_reason(client, world, team):
    req = approved(client, world, team)
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "  ", "version": str(req.version)})
    assert "needs a reason" in page_text(refused(client, response))
    assert reload(req).state == State.APPROVED


@pytest.mark.parametrize("who", ["aigerim", "manager", "lead12"])
def test_others_cannot_reopen(client, world, team, who):
    req = approved(client, world, team)
    login_as(client, team[who])
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "Хочу", "version": str(req.version)})
    assert response.status_code == 403
    assert reload(req).state == State.APPROVED


def test_only_approved_decisions_can_be_reopened(client, world, team):
    req = proposed(client, world, team, 1)[0]
    login_as(client, team["lead"])
    response = client.post(f"/requirements/{req.id}/reopen",
                           data={"reason": "Хочу", "version": str(req.version)})
    refused(client, response)
    assert reload(req).state == State.PROPOSED


# Assignment ----------------------------------------------------------------------------------

def test_lead_assigns_and_unassigns_and_history_records_it(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    assert client.post(f"/requirements/{req.id}/assign",
                       data={"assignee": str(team["bolat"].id)}).status_code == 302
    assert reload(req).assignee_id == team["bolat"].id
    assert client.post(f"/requirements/{req.id}/assign",
                       data={"assignee": str(team["dana"].id)}).status_code == 302
    assert client.post(f"/requirements/{req.id}/assign", data={"assignee": ""}).status_code == 302
    req = reload(req)
    assert req.assignee_id is None and req.version == 1  # assignment is not a review change
    assert [(e.action, e.assignee_id) for e in events(req)] == [
        (Action.ASSIGN, team["bolat"].id), (Action.ASSIGN, team["dana"].id),
        (Action.UNASSIGN, None)]


@pytest.mark.parametrize("assignee", ["outsider", "manager"])
def test_cannot_assign_to_someone_outside_the_area(client, world, team, assignee):
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    response = client.post(f"/requirements/{req.id}/assign",
                           data={"assignee": str(team[assignee].id)})
    assert "does not work in area 07" in page_text(refused(client, response))
    assert reload(req).assignee_id is None and events(req) == []


def test_unknown_assignee_is_refused(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["lead"])
    for value in ("999999", "x'; drop"):
        response = client.post(f"/requirements/{req.id}/assign", data={"assignee": value})
        assert "Unknown person" in page_text(refused(client, response))
    assert events(req) == []


@pytest.mark.parametrize("who", ["aigerim", "manager", "lead12"])
def test_only_lead_or_admin_assigns_others(client, world, team, who):
    req = world.requirement(team["fire"])
    login_as(client, team[who])
    response = client.post(f"/requirements/{req.id}/assign",
                           data={"assignee": str(team["bolat"].id)})
    assert response.status_code == 403
    assert reload(req).assignee_id is None


def test_reviewer_takes_an_unassigned_requirement_but_not_a_taken_one(client, world, team):
    free = world.requirement(team["fire"])
    taken = world.requirement(team["fire"], assignee_id=team["bolat"].id)
    login_as(client, team["aigerim"])
    assert client.post(f"/requirements/{free.id}/assign", data={"assignee": "me"}
                       ).status_code == 302
    assert reload(free).assignee_id == team["aigerim"].id
    response = client.post(f"/requirements/{taken.id}/assign", data={"assignee": "me"})
    assert "already taken" in page_text(refused(client, response))
    assert reload(taken).assignee_id == team["bolat"].id


def test_bulk_assign_by_selection_and_by_filter(client, world, team):
    reqs = [world.requirement(team["fire"], issuing_body="МЧС") for _ in range(3)]
    other = world.requirement(team["fire"], issuing_body="Минздрав")
    login_as(client, team["lead"])
    response = client.post("/requirements/assign", data={
        "give_to": str(team["dana"].id), "item": [str(reqs[0].id)]})
    response = result(client, response)
    assert reload(reqs[0]).assignee_id == team["dana"].id
    response = client.post("/requirements/assign", data={
        "give_to": str(team["bolat"].id), "scope": "filter", "body": "МЧС",
        "assignee": "none"})
    # Only the unassigned ones matched the filter: the first stays with Dana.
    assert [reload(r).assignee_id for r in reqs] == [team["dana"].id] + [team["bolat"].id] * 2
    assert reload(other).assignee_id is None


def test_bulk_assign_refuses_another_areas_requirements(client, world, team):
    theirs = world.requirement(team["transport"])
    login_as(client, team["lead"])
    response = client.post("/requirements/assign", data={
        "give_to": str(team["dana"].id), "item": [str(theirs.id)]})
    assert response.status_code == 422
    assert reload(theirs).assignee_id is None


def test_reviewer_cannot_bulk_assign(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    assert client.post("/requirements/assign", data={
        "give_to": str(team["aigerim"].id), "item": [str(req.id)]}).status_code == 403


def test_balance_spreads_unassigned_work_evenly(client, world, team):
    world.requirement(team["fire"], assignee_id=team["aigerim"].id)
    world.requirement(team["fire"], assignee_id=team["aigerim"].id)
    for _ in range(7):
        world.requirement(team["fire"])
    login_as(client, team["lead"])
    response = client.post("/areas/07/balance", data={})
    assert response.status_code == 302
    loads = dict(db.session.execute(sa.select(Requirement.assignee_id, sa.func.count())
                                    .group_by(Requirement.assignee_id)).all())
    assert None not in loads
    assert sorted(loads.values()) == [3, 3, 3]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReviewEvent).where(
        ReviewEvent.action == Action.ASSIGN)) == 7


@pytest.mark.parametrize("who", ["aigerim", "lead12", "manager"])
def test_balance_is_for_the_areas_lead_or_admin(client, world, team, who):
    world.requirement(team["fire"])
    login_as(client, team[who])
    assert client.post("/areas/07/balance", data={}).status_code == 403
    assert db.session.scalar(sa.select(Requirement.assignee_id)) is None


def test_claim_next_takes_returned_work_first(client, world, team):
    world.requirement(team["fire"], code="TR-07-A")
    returned = proposed(client, world, team, 1, reviewer="bolat")[0]
    login_as(client, team["lead"])
    decide(client, returned, "return", "Переделайте")
    login_as(client, team["aigerim"])
    response = client.post("/my-work/claim", data={})
    assert response.status_code == 302
    assert reload(returned).assignee_id == team["aigerim"].id
    page = page_text(client.get("/my-work"))
    assert returned.code in page and "Переделайте" in page


def test_claim_next_when_nothing_is_left(client, world, team):
    world.requirement(team["fire"], assignee_id=team["bolat"].id)
    login_as(client, team["aigerim"])
    response = client.post("/my-work/claim", data={})
    assert response.status_code == 302 and response.location == "/my-work"
    assert "no unassigned requirement left" in page_text(client.get("/my-work"))


def test_managers_cannot_claim(client, team):
    login_as(client, team["manager"])
    assert client.post("/my-work/claim", data={}).status_code == 403


def returned_to_aigerim(client, world, team) -> Requirement:
    """A proposal the lead returned, assigned to Aigerim (in her My work, first)."""
    returned = proposed(client, world, team, 1)[0]
    login_as(client, team["lead"])
    decide(client, returned, "return", "Нужна ссылка на статью закона")
    db.session.execute(sa.update(Requirement).where(Requirement.id == returned.id)
                       .values(assignee_id=team["aigerim"].id))
    db.session.commit()
    return returned


def test_my_work_lists_returned_items_first(client, world, team):
    fresh = world.requirement(team["fire"], code="TR-07-00000", assignee_id=team["aigerim"].id)
    returned = returned_to_aigerim(client, world, team)
    login_as(client, team["aigerim"])
    html = client.get("/my-work").get_data(as_text=True)
    assert html.index(returned.code) < html.index(fresh.code)
    assert "Нужна ссылка на статью закона" in html


# Comments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["aigerim", "lead", "manager", "admin"])
def test_anyone_who_can_see_it_comments(client, world, team, who):
    req = world.requirement(team["fire"])
    login_as(client, team[who])
    response = client.post(f"/requirements/{req.id}/comment",
                           data={"text": "<script>alert(1)</script> Вопрос"})
    assert response.status_code == 302
    html = client.get(f"/requirements/{req.id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Вопрос" in html
    assert "<script>alert(1)" not in html
    assert reload(req).version == 1


def test_comments_are_length_limited_and_not_empty(client, world, team):
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    long = refused(client, client.post(f"/requirements/{req.id}/comment",
                                       data={"text": "я" * 2001}))
    assert "at most 2000 characters" in page_text(long)
    refused(client, client.post(f"/requirements/{req.id}/comment", data={"text": "   "}))
    assert events(req) == []


def test_cannot_comment_on_another_areas_requirement(client, world, team):
    req = world.requirement(team["transport"])
    login_as(client, team["aigerim"])
    assert client.post(f"/requirements/{req.id}/comment", data={"text": "Привет"}
                       ).status_code == 403
    assert events(req) == []


# Progress ------------------------------------------------------------------------------------

def test_area_progress_counts_and_reviewer_figures(client, world, team):
    reqs = proposed(client, world, team, 3)
    world.requirement(team["fire"])
    login_as(client, team["lead"])
    decide(client, reqs[0], "approve")
    decide(client, reqs[1], "return", "Доработать")
    response = client.get("/areas/07")
    assert response.status_code == 200
    text = page_text(response)
    assert "Aigerim 0 3 1 1" in text  # assigned, proposals, approved, returned
    assert "25% decided" in text


@pytest.mark.parametrize("who,status", [("lead", 200), ("manager", 200), ("admin", 200),
                                        ("aigerim", 403), ("lead12", 403)])
def test_who_sees_area_progress(client, team, who, status):
    login_as(client, team[who])
    assert client.get("/areas/07").status_code == status


def test_unknown_area_is_404(client, team):
    login_as(client, team["admin"])
    assert client.get("/areas/99").status_code == 404
    assert client.post("/areas/99/balance", data={}).status_code == 404


def test_my_work_comes_a_page_at_a_time_returned_items_first(app, client, world, team):
    mine = [world.requirement(team["fire"], code=f"TR-07-9000{i}",
                              assignee_id=team["aigerim"].id) for i in range(3)]
    returned = returned_to_aigerim(client, world, team)
    app.config["PAGE_SIZE"] = 2
    login_as(client, team["aigerim"])
    html = client.get("/my-work").get_data(as_text=True)
    assert returned.code in html and mine[0].code in html and mine[1].code not in html
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    html = client.get(nxt).get_data(as_text=True)
    assert mine[1].code in html and mine[2].code in html and returned.code not in html
    assert 'rel="next"' not in html and "First page" in html
    response = client.get("/my-work", query_string={"after": "bm90LWEtY3Vyc29y"})
    assert response.status_code == 400
    assert "This page link is broken" in page_text(response)
