"""Similar and duplicate requirements: the same paragraph copied into several acts is found,
grouped by a background job, and decided once — each member still with its own event."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from review_app.duplicates import grouping, service
from review_app.duplicates import similarity as sim
from review_app.duplicates.models import DuplicateRun, RunStatus, TextBand
from review_app.extensions import db
from review_app.requirements.models import Decision, State
from review_app.reviews.models import Action
from tests.conftest import events, login_as, page_text, propose, reload
from tests.duplicates_support import (
    EXTINGUISHERS,
    EXTINGUISHERS_NEAR,
    EXTINGUISHERS_RENUMBERED,
    KK_TEXT,
    LICENCE,
    group_codes,
    only_run,
    run_worker,
)

# The measure -------------------------------------------------------------------------------------

def test_numbering_spacing_and_case_do_not_make_a_text_different():
    assert sim.exact_key(EXTINGUISHERS) == sim.exact_key(EXTINGUISHERS_RENUMBERED)
    assert sim.exact_key("(а) Документы хранятся.") == sim.exact_key("документы  ХРАНЯТСЯ")
    assert sim.exact_key("2.1. Документы хранятся") == sim.exact_key("Документы хранятся")
    assert sim.similarity(EXTINGUISHERS, EXTINGUISHERS_RENUMBERED) == 1.0


def test_a_changed_number_is_a_near_duplicate_and_shared_boilerplate_is_not():
    assert sim.similarity(EXTINGUISHERS, EXTINGUISHERS_NEAR) >= sim.DUPLICATE_THRESHOLD
    assert sim.similarity(EXTINGUISHERS, LICENCE) < sim.SIMILAR_THRESHOLD
    with_act = KK_TEXT + " Негіздеме: Өрт қауіпсіздігі қағидалары."
    assert sim.similarity(KK_TEXT, with_act) >= sim.DUPLICATE_THRESHOLD


def test_grouping_puts_copies_together_and_leaves_different_requirements_alone():
    texts = [(1, EXTINGUISHERS), (2, LICENCE), (3, EXTINGUISHERS_RENUMBERED),
             (4, EXTINGUISHERS_NEAR), (5, KK_TEXT), (6, KK_TEXT.upper())]
    grouped = grouping.group_texts(texts)
    groups = sorted((sorted(ids), exact) for ids, exact in grouped.groups)
    assert groups == [([1, 3, 4], False), ([5, 6], True)]
    assert grouped.requirement_count == 6


# Similar requirements on the page ----------------------------------------------------------------

@pytest.fixture
def copies(world, team):
    """The extinguisher paragraph in fire safety (twice) and in transport, plus unrelated ones."""
    fire, transport = team["fire"], team["transport"]
    return {
        "a": world.requirement(fire, text=EXTINGUISHERS),
        "b": world.requirement(fire, text=EXTINGUISHERS_RENUMBERED),
        "near": world.requirement(fire, text=EXTINGUISHERS_NEAR),
        "other_area": world.requirement(transport, text=EXTINGUISHERS),
        "licence": world.requirement(fire, text=LICENCE),
        "kk": world.requirement(fire, text=KK_TEXT),
    }


def grouped_now(app) -> DuplicateRun:
    service.request_grouping("admin")
    run_worker(app)
    return only_run()


def test_the_requirement_page_shows_similar_requirements_with_their_decisions(
        app, client, team, copies):
    grouped_now(app)
    login_as(client, team["aigerim"])
    propose(client, copies["b"], "cancel", justification="Дублирует технический регламент.")
    page = client.get(f"/requirements/{copies['a'].id}")
    text = page_text(page)
    assert page.status_code == 200
    assert copies["b"].code in text and copies["near"].code in text
    assert "same text" in text and "Дублирует технический регламент." in text
    assert copies["licence"].code not in text and copies["kk"].code not in text
    # Transport is not aigerim's area: its copy is not shown to her.
    assert copies["other_area"].code not in text


def test_similar_to_sees_every_area_for_a_manager_most_alike_first(app, team, copies):
    grouped_now(app)
    manager = db.session.get(type(team["manager"]), team["manager"].id)
    found = service.similar_to(copies["a"], manager, limit=5)
    codes = [s.requirement.code for s in found]
    assert set(codes) == {copies["b"].code, copies["near"].code, copies["other_area"].code}
    assert codes[-1] == copies["near"].code and found[0].exact
    assert service.similar_to(copies["a"], manager, limit=1)[0].exact


def test_a_text_changed_since_the_last_grouping_still_finds_its_copies(app, world, team, copies):
    grouped_now(app)
    fresh = world.requirement(team["fire"], text="3) " + EXTINGUISHERS)  # not indexed yet
    manager = db.session.get(type(team["manager"]), team["manager"].id)
    assert copies["a"].code in {s.requirement.code for s in service.similar_to(fresh, manager)}


# The grouping job ---------------------------------------------------------------------------

def test_a_grouping_run_indexes_every_text_and_builds_the_groups(app, copies):
    run, created = service.request_grouping("seed")
    assert created and run.status == RunStatus.QUEUED
    assert service.request_grouping("import")[0].id == run.id  # still queued: joined
    run_worker(app)
    run = only_run()
    assert run.status == RunStatus.DONE and run.progress == 100
    assert run.requirement_count == 6 and run.group_count == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TextBand)) == 6 * sim.BANDS
    assert group_codes() == [sorted(copies[k].code for k in ("a", "b", "near", "other_area"))]


def test_a_failed_grouping_is_recorded_and_raised_for_rq(app, copies, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full while grouping")

    monkeypatch.setattr(grouping, "group_texts", broken)
    service.request_grouping("admin")
    run_worker(app)
    run = only_run()
    assert run.status == RunStatus.FAILED
    assert "disk full while grouping" in run.error
    # A failed run does not block the next one.
    assert service.request_grouping("admin")[1] is True


def test_a_run_claimed_by_nobody_else_runs_once(app, copies):
    run, _ = service.request_grouping("admin")
    assert service.claim(run.id, run.job_id)
    assert not service.claim(run.id, run.job_id)  # the second delivery finds it taken


def test_applying_an_import_asks_for_new_groups(app):
    # The import calls request_quietly; here the same call, as the import does it, twice.
    first = service.request_quietly("import")
    assert service.request_quietly("import").id == first.id


# Groups: list, filter, page --------------------------------------------------------------------

def test_has_duplicates_filters_the_list(app, client, team, copies):
    grouped_now(app)
    login_as(client, team["aigerim"])
    text = page_text(client.get("/requirements/?dup=yes"))
    assert copies["a"].code in text and copies["licence"].code not in text
    text = page_text(client.get("/requirements/?dup=no"))
    assert copies["a"].code not in text and copies["licence"].code in text
    bad = client.get("/requirements/?dup=maybe")
    assert bad.status_code == 400 and "Unknown duplicates filter" in page_text(bad)


def test_the_group_page_shows_members_states_decisions_and_disagreement(
        app, client, team, copies):
    grouped_now(app)
    login_as(client, team["aigerim"])
    propose(client, copies["a"], "cancel")
    propose(client, copies["near"], "keep")
    group = service.group_of(copies["a"].id)
    login_as(client, team["manager"])
    text = page_text(client.get(f"/duplicates/{group.id}"))
    assert all(copies[k].code in text for k in ("a", "b", "near", "other_area"))
    assert "decisions disagree" in text and "Area 12" in text
    assert "One proposal for the ticked requirements" not in text  # managers do not propose
    listing = page_text(client.get("/duplicates/"))
    assert "Groups whose decisions disagree" in listing and f"Group {group.id}" in listing


def test_reviewers_do_not_get_the_disagreement_list_and_leads_see_their_areas(
        app, client, team, copies):
    grouped_now(app)
    login_as(client, team["aigerim"])
    propose(client, copies["a"], "cancel")
    propose(client, copies["b"], "keep")
    assert "Groups whose decisions disagree" not in page_text(client.get("/duplicates/"))
    login_as(client, team["lead"])
    group = service.group_of(copies["a"].id)
    assert f"Group {group.id}" in page_text(client.get("/duplicates/"))
    login_as(client, team["lead12"])  # transport's only member agrees with nothing
    assert "No group has disagreeing decisions." in page_text(client.get("/duplicates/"))


def test_a_group_with_no_member_in_ones_areas_is_not_found(app, client, world, team):
    only_transport = [world.requirement(team["transport"], text=LICENCE) for _ in range(2)]
    grouped_now(app)
    group = service.group_of(only_transport[0].id)
    login_as(client, team["aigerim"])
    assert client.get(f"/duplicates/{group.id}").status_code == 404
    assert client.get("/duplicates/999999").status_code == 404
    client.post("/logout", data={})
    assert client.get(f"/duplicates/{group.id}").status_code in (302, 401)


# One decision for a group --------------------------------------------------------------------

def group_form(reqs, decision="cancel", **overrides) -> dict:
    tests = {"cancel": ("no", "yes", "yes"), "revise": ("yes", "yes", "no"),
             "keep": ("yes", "yes", "yes")}[decision]
    data = {"legal": tests[0], "necessary": tests[1], "business_friendly": tests[2],
            "decision": decision, "justification": "Дублирует норму технического регламента.",
            "item": [f"{r.id}:{reload(r).version}" for r in reqs]}
    data.update(overrides)
    return data


def test_a_reviewer_decides_a_whole_group_once_and_each_member_gets_its_own_event(
        app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    page = client.get(f"/duplicates/{group.id}")
    assert "One proposal for the ticked requirements" in page_text(page)
    members = [copies["a"], copies["b"], copies["near"]]
    response = client.post(f"/duplicates/{group.id}/propose", data=group_form(members))
    assert response.status_code == 303
    result = page_text(client.get(response.location))
    assert "Proposed for 3 requirements." in result
    for req in members:
        req = reload(req)
        assert req.state == State.PROPOSED and req.decision == Decision.CANCEL
        assert len(events(req, Action.PROPOSE)) == 1
    assert reload(copies["other_area"]).state == State.UNREVIEWED


def test_members_that_cannot_take_the_proposal_are_skipped_with_the_reason(
        app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    form = group_form([copies["a"], copies["b"], copies["near"]])
    login_as(client, team["bolat"])
    propose(client, copies["b"], "keep")  # changed since aigerim's page was read
    login_as(client, team["aigerim"])
    response = client.post(f"/duplicates/{group.id}/propose", data=form)
    result = page_text(client.get(response.location))
    assert "Proposed for 2 requirements." in result
    assert "1 requirement was skipped" in result and "Someone else changed" in result
    assert reload(copies["b"]).decision == Decision.KEEP
    assert len(events(copies["b"], Action.PROPOSE)) == 1


def test_revise_for_a_group_takes_each_members_own_wording(app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    form = group_form([copies["a"], copies["near"]], "revise")
    form[f"wording-{copies['a'].id}"] = "Огнетушители проверяются раз в год."
    form[f"wording-{copies['near'].id}"] = "Огнетушители проверяются раз в два года."
    response = client.post(f"/duplicates/{group.id}/propose", data=form)
    assert "Proposed for 2 requirements." in page_text(client.get(response.location))
    assert reload(copies["a"]).new_wording == "Огнетушители проверяются раз в год."
    assert reload(copies["near"]).new_wording == "Огнетушители проверяются раз в два года."


def test_revise_without_a_wording_skips_that_member(app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    form = group_form([copies["a"], copies["near"]], "revise")
    form[f"wording-{copies['a'].id}"] = "Огнетушители проверяются раз в год."
    form[f"wording-{copies['near'].id}"] = ""
    result = page_text(client.get(client.post(f"/duplicates/{group.id}/propose",
                                              data=form).location))
    assert "Proposed for 1 requirement." in result and "needs the proposed new wording" in result
    assert reload(copies["near"]).state == State.UNREVIEWED


def test_no_group_action_reaches_a_requirement_outside_the_persons_areas(
        app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    forged = group_form([copies["a"], copies["other_area"]])
    assert client.post(f"/duplicates/{group.id}/propose", data=forged).status_code == 403
    assert reload(copies["a"]).state == State.UNREVIEWED
    assert reload(copies["other_area"]).state == State.UNREVIEWED
    # An id from another group is refused too, even in her own area.
    stranger = group_form([copies["licence"]])
    assert client.post(f"/duplicates/{group.id}/propose", data=stranger).status_code == 403
    assert reload(copies["licence"]).state == State.UNREVIEWED


def test_a_reviewer_of_the_other_area_reaches_only_their_member(app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["outsider"])
    text = page_text(client.get(f"/duplicates/{group.id}"))
    assert copies["other_area"].code in text and copies["a"].code not in text
    assert "3 of them are in areas you do not see" in text
    response = client.post(f"/duplicates/{group.id}/propose",
                           data=group_form([copies["other_area"]]))
    assert "Proposed for 1 requirement." in page_text(client.get(response.location))
    assert reload(copies["a"]).state == State.UNREVIEWED


def test_a_manager_or_lead_of_another_area_cannot_propose_for_a_group(app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["manager"])
    response = client.post(f"/duplicates/{group.id}/propose",
                           data=group_form([copies["a"], copies["b"]]))
    result = page_text(client.get(response.location))
    assert "2 requirements were skipped" in result and "may not do this" in result
    assert reload(copies["a"]).state == State.UNREVIEWED
    login_as(client, team["lead12"])
    assert client.post(f"/duplicates/{group.id}/propose",
                       data=group_form([copies["a"]])).status_code == 403


def test_an_incomplete_group_proposal_saves_nothing_and_says_why(app, client, team, copies):
    grouped_now(app)
    group = service.group_of(copies["a"].id)
    login_as(client, team["aigerim"])
    response = client.post(f"/duplicates/{group.id}/propose",
                           data=group_form([copies["a"]], justification=""))
    assert response.status_code == 422 and "Explain the decision." in page_text(response)
    response = client.post(f"/duplicates/{group.id}/propose", data=group_form([], item=[]))
    assert response.status_code == 422 and "tick at least one" in page_text(response)
    response = client.post(f"/duplicates/{group.id}/propose",
                           data=group_form([copies["a"]], item=["x:1"]))
    assert response.status_code == 400
    assert reload(copies["a"]).state == State.UNREVIEWED


def test_only_admins_rebuild_the_groups(app, client, team):
    login_as(client, team["lead"])
    assert client.post("/duplicates/rebuild", data={}).status_code == 403
    login_as(client, team["admin"])
    assert client.post("/duplicates/rebuild", data={}).status_code == 303
    assert only_run().status == RunStatus.QUEUED
