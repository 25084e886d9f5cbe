"""Review mode: a reviewer or a lead works through one list item by item, in its order, saving
and going on at once; leaving and coming back resumes; refusals keep what was typed; and no
list, cursor or item reaches a requirement outside the person's areas."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest

from review_app.audit.models import AuditEntry
from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import State
from tests.conftest import (
    current_version,
    events,
    login_as,
    page_text,
    proposal,
    propose,
    reload,
)


def review(client, origin: str = "my-work", **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return client.get(f"/review?from={quote(origin)}" + (f"&{query}" if query else ""))


def submit(client, req, origin="my-work", decision="cancel", **overrides):
    data = proposal(decision, version=overrides.pop("version", None) or current_version(req),
                    **overrides)
    data.update({"from": origin, "mode": "review"})
    return client.post(f"/requirements/{req.id}/propose", data=data)


@pytest.fixture
def my_three(team, world):
    """Three requirements of fire safety assigned to Aigerim, in code order."""
    reqs = [world.requirement(team["fire"], assignee_id=team["aigerim"].id) for _ in range(3)]
    return sorted(reqs, key=lambda r: r.code)


def test_review_these_from_my_work_opens_the_first_item_with_its_place_in_the_list(
        client, team, my_three):
    login_as(client, team["aigerim"])
    assert 'href="/review?from=my-work"' in client.get("/my-work").get_data(as_text=True)
    page = review(client)
    text = page_text(page)
    assert page.status_code == 200
    assert my_three[0].code in text and "1 of 3" in text
    assert "Правила пожарной безопасности" in text  # the legal basis
    assert 'data-testid="proposal-form"' in page.get_data(as_text=True)


def test_saving_in_review_mode_goes_straight_to_the_next_item_and_says_so(
        client, team, my_three):
    login_as(client, team["aigerim"])
    response = submit(client, my_three[0])
    assert response.status_code == 303
    assert reload(my_three[0]).state == State.PROPOSED
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert f"Saved — next: {my_three[1].code}" in html
    assert my_three[1].code in page_text(page)
    # My work keeps proposed items, last: the next one is the second of three.
    assert "1 of 3" in page_text(page)


def test_the_last_item_saved_ends_at_a_page_that_says_so(client, team, world):
    req = world.requirement(team["fire"], assignee_id=team["aigerim"].id)
    login_as(client, team["aigerim"])
    response = submit(client, req)
    page = client.get(response.location)
    assert "Nothing more in this list is waiting for you" in page_text(page)
    assert 'data-testid="review-end"' in page.get_data(as_text=True)


def test_leaving_and_coming_back_resumes_where_the_person_was(client, team, my_three):
    login_as(client, team["aigerim"])
    first = review(client).get_data(as_text=True)
    next_link = first.split('data-key="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(next_link.replace("&amp;", "&"))
    assert my_three[1].code in page_text(second) and "2 of 3" in page_text(second)
    client.get("/requirements/")  # somewhere else
    again = review(client)
    assert "2 of 3" in page_text(again) and my_three[1].code in page_text(again)
    # "Start again" ignores the remembered place.
    assert "1 of 3" in page_text(review(client, start=1))


def test_previous_next_and_skip_follow_the_filtered_list_in_its_order(client, team, world):
    fire = team["fire"]
    done = world.requirement(fire, code="A-001")
    waiting = [world.requirement(fire, code=f"A-00{n}") for n in (2, 3)]
    login_as(client, team["lead"])
    propose(client, done)  # the lead's own proposal: proposed, nothing more for the lead to do
    login_as(client, team["aigerim"])
    page = review(client, "list?area=07&sort=-code", at="")
    html = page.get_data(as_text=True)
    assert waiting[1].code in page_text(page) and "1 of 3" in page_text(page)
    assert 'data-key="previous"' not in html
    nxt = html.split('data-key="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = client.get(nxt.replace("&amp;", "&"))
    assert waiting[0].code in page_text(second) and "2 of 3" in page_text(second)


def test_review_mode_over_a_list_sorted_by_cost_walks_it_in_that_order(client, team, world):
    """The cost order is read from ``cost_order`` (indexed), as the list reads it: a computed
    cost before the imported estimate, ties by id, no cost last."""
    from review_app.scm.models import ScmCost

    fire = team["fire"]
    cheap = world.requirement(fire, code="C-1", annual_cost_kzt=10)
    dear = world.requirement(fire, code="C-2", annual_cost_kzt=5)
    none = world.requirement(fire, code="C-3", annual_cost_kzt=None)
    middle = world.requirement(fire, code="C-4", annual_cost_kzt=1)
    db.session.add(ScmCost(requirement_id=dear.id, central=500, low=400, high=600))
    db.session.commit()
    login_as(client, team["aigerim"])
    seen, page = [], review(client, "list?area=07&sort=-cost", at="")
    for _ in range(4):
        seen.append(page_text(page))
        html = page.get_data(as_text=True)
        if 'data-key="next"' not in html:
            break
        nxt = html.split('data-key="next"')[0].rsplit('href="', 1)[1].split('"')[0]
        page = client.get(nxt.replace("&amp;", "&"))
    order = [next(r.code for r in (cheap, dear, none, middle) if r.code in text)
             for text in seen]
    assert order == ["C-2", "C-1", "C-4", "C-3"]
    # the first shows the cost it was sorted by: computed, with its range and the estimate
    first = seen[0].split("Estimated annual compliance cost", 1)[1]
    assert "500" in first and "400–600" in first and "computed from cost inputs" in first


def test_a_stale_version_in_review_mode_keeps_the_text_and_shows_the_same_item(
        client, team, my_three):
    login_as(client, team["aigerim"])
    response = submit(client, my_three[0], version=current_version(my_three[0]) + 5,
                      justification="Мой длинный текст обоснования.")
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.location).query)
    assert query["item"] == [str(my_three[0].id)] and "draft" in query
    page = client.get(response.location)
    assert 'data-testid="error"' in page.get_data(as_text=True)
    assert "Мой длинный текст обоснования." in page.get_data(as_text=True)
    assert reload(my_three[0]).state == State.UNREVIEWED


def test_an_incomplete_form_in_review_mode_comes_back_with_its_fields_marked(
        client, team, my_three):
    login_as(client, team["aigerim"])
    response = submit(client, my_three[0], justification="")
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert "Explain the decision." in html and my_three[0].code in page_text(page)


def test_a_lead_approves_from_review_mode_over_their_queue(client, team, world):
    reqs = [world.requirement(team["fire"]) for _ in range(2)]
    login_as(client, team["aigerim"])
    for r in reqs:
        propose(client, r)
    login_as(client, team["lead"])
    assert 'href="/review?from=queue"' in client.get("/queue").get_data(as_text=True)
    page = review(client, "queue")
    assert 'data-testid="decision-form"' in page.get_data(as_text=True)
    first = next(r for r in reqs if r.code in page_text(page))
    response = client.post(f"/requirements/{first.id}/decide", data={
        "action": "approve", "comment": "", "version": str(current_version(first)),
        "from": "queue", "mode": "review"})
    assert response.status_code == 303
    assert reload(first).state == State.APPROVED
    other = next(r for r in reqs if r is not first)
    assert f"Saved — next: {other.code}" in client.get(response.location).get_data(as_text=True)


def test_a_reviewer_cannot_open_items_outside_their_areas_in_review_mode(
        client, team, world):
    fire_req = world.requirement(team["fire"])
    login_as(client, team["outsider"])  # reviewer in transport only
    assert review(client, "list", item=fire_req.id).status_code == 403
    # A list filtered to an area they do not see is not a list they may read.
    assert review(client, "list?area=07").status_code == 400
    # A cursor made from another area's requirement finds nothing of that area.
    mine = world.requirement(team["transport"], code="ZZ-9")
    page = review(client, "list", at="WyJUUi0wNy0wMDAwMSIsIDFd")
    assert fire_req.code not in page_text(page)
    assert mine.code in page_text(page)
    assert not events(fire_req)


def test_a_reviewer_cannot_propose_outside_their_areas_from_review_mode(
        client, team, world):
    fire_req = world.requirement(team["fire"])
    login_as(client, team["outsider"])
    assert submit(client, fire_req, origin="list").status_code == 403
    assert reload(fire_req).state == State.UNREVIEWED


def test_a_reviewer_has_no_queue_to_review(client, team):
    login_as(client, team["aigerim"])
    assert review(client, "queue").status_code == 400


def test_anonymous_people_are_sent_to_sign_in(client, team):
    assert review(client).status_code == 302


@pytest.mark.parametrize("params", [{"at": "garbage!"}, {"at": "W1tdXQ"}, {"item": "x"},
                                    {"item": "99999999"}])
def test_broken_review_links_answer_with_a_clear_4xx(client, team, my_three, params):
    login_as(client, team["aigerim"])
    assert review(client, **params).status_code in (400, 404)


def test_unknown_lists_are_refused(client, team):
    login_as(client, team["aigerim"])
    for origin in ("nowhere", "list?colour=red", "list?area=99", "x" * 700):
        assert review(client, origin).status_code == 400


# Standard justifications in review mode ----------------------------------------------------------

def _template(area, **texts) -> JustificationTemplate:
    t = JustificationTemplate(area_id=area.id if area else None,
                              text_kk=texts.get("kk", "Заң нормасын қайталайды."),
                              text_ru=texts.get("ru", "Дублирует норму закона."),
                              text_en=texts.get("en", "Duplicates a norm of a law."))
    db.session.add(t)
    db.session.commit()
    return t


def test_review_mode_offers_the_areas_and_national_justifications_and_counts_their_use(
        client, team, my_three):
    ours = _template(team["fire"])
    national = _template(None, ru="Нет правового основания в законе.")
    theirs = _template(team["transport"], ru="Риск покрыт общими правилами.")
    login_as(client, team["aigerim"])
    html = review(client).get_data(as_text=True)
    assert "Дублирует" not in html  # English interface: the English text
    assert "Duplicates a norm of a law." in html and f'data-template="{national.id}"' in html
    assert f'data-template="{theirs.id}"' not in html
    submit(client, my_three[0], template=str(ours.id))
    submit(client, my_three[1], template=str(theirs.id))  # not offered there: not counted
    db.session.expire_all()
    assert (ours.usage_count, theirs.usage_count, national.usage_count) == (1, 0, 0)


def test_leads_keep_their_areas_justifications_and_every_change_is_audited(client, team):
    login_as(client, team["lead"])
    response = client.post("/justifications/new", data={
        "area": "07", "text_kk": "Қауіп жалпы қағидалармен жабылған.",
        "text_ru": "Риск покрыт общими правилами безопасности.",
        "text_en": "The risk is covered by the general safety rules."})
    assert response.status_code == 302
    t = db.session.scalar(db.select(JustificationTemplate))
    assert t.area_id == team["fire"].id
    client.post(f"/justifications/{t.id}", data={
        "text_kk": t.text_kk, "text_ru": "Риск покрыт общими правилами.", "text_en": t.text_en})
    client.post(f"/justifications/{t.id}/active", data={"active": "0"})
    db.session.expire_all()
    assert t.text_ru == "Риск покрыт общими правилами." and not t.active
    actions = [e.action for e in db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.target_type == "justification")
        .order_by(AuditEntry.id))]
    assert actions == ["justification_created", "justification_updated",
                       "justification_retired"]
    assert "general safety rules" in client.get("/justifications/").get_data(as_text=True)


def test_a_lead_cannot_set_national_justifications_or_another_areas(client, team):
    national = _template(None)
    theirs = _template(team["transport"])
    login_as(client, team["lead"])
    assert client.post("/justifications/new", data={
        "area": "national", "text_kk": "а", "text_ru": "б", "text_en": "c"}).status_code == 400
    assert client.post("/justifications/new", data={
        "area": "12", "text_kk": "а", "text_ru": "б", "text_en": "c"}).status_code == 400
    for t in (national, theirs):
        assert client.get(f"/justifications/{t.id}").status_code == 403
        assert client.post(f"/justifications/{t.id}", data={
            "text_kk": "а", "text_ru": "б", "text_en": "c"}).status_code == 403
        assert client.post(f"/justifications/{t.id}/active",
                           data={"active": "0"}).status_code == 403
    db.session.expire_all()
    assert national.active and theirs.active and theirs.text_ru == "Дублирует норму закона."
    assert db.session.scalar(db.select(db.func.count()).select_from(JustificationTemplate)) == 2


def test_an_admin_sets_national_justifications(client, team):
    login_as(client, team["admin"])
    assert client.post("/justifications/new", data={
        "area": "national", "text_kk": "Заңда құқықтық негіз жоқ.",
        "text_ru": "Нет правового основания в законе.",
        "text_en": "No legal basis in a law."}).status_code == 302
    assert db.session.scalar(db.select(JustificationTemplate)).area_id is None


@pytest.mark.parametrize("who", ["aigerim", "manager", None])
def test_reviewers_managers_and_anonymous_people_do_not_keep_the_library(client, team, who):
    t = _template(team["fire"])
    if who:
        login_as(client, team[who])
    expected = 403 if who else 302
    assert client.get("/justifications/").status_code == expected
    assert client.post("/justifications/new", data={
        "area": "07", "text_kk": "а", "text_ru": "б", "text_en": "c"}).status_code == expected
    assert client.post(f"/justifications/{t.id}/active",
                       data={"active": "0"}).status_code == expected
    db.session.expire_all()
    assert t.active


def test_past_the_end_saving_goes_back_to_work_left_earlier_in_the_list(client, team, my_three):
    login_as(client, team["aigerim"])
    # Straight to the last item, decide it: the first one still waits.
    last = review(client, "list?sort=-code").get_data(as_text=True)
    assert my_three[2].code in last
    response = submit(client, my_three[0], origin="list?sort=code")
    assert "Saved — next: " + my_three[1].code in client.get(response.location).get_data(
        as_text=True)
    response = submit(client, my_three[2], origin="list?sort=code")
    assert "Saved — next: " + my_three[1].code in client.get(response.location).get_data(
        as_text=True)


def test_the_requirement_page_offers_the_same_justifications_and_counts_their_use(
        client, team, world):
    ours = _template(team["fire"])
    req = world.requirement(team["fire"])
    login_as(client, team["aigerim"])
    assert f'data-template="{ours.id}"' in client.get(f"/requirements/{req.id}").get_data(
        as_text=True)
    propose(client, req, template=str(ours.id))
    db.session.expire_all()
    assert ours.usage_count == 1
    # Junk in the field counts nothing and refuses nothing.
    other = world.requirement(team["fire"])
    assert propose(client, other, template="9" * 30).status_code == 302
    assert reload(other).state == State.PROPOSED
