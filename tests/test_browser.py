"""User stories in a real Chromium: sign in, propose, approve, languages, stale edits.

The fixtures and steps are in ``tests/browser_support.py``.
"""

from __future__ import annotations

import re

import pytest

from review_app.auth.models import User
from review_app.extensions import db
from review_app.requirements.models import Decision, State
from tests.browser_support import (
    Page,
    answer,
    choose,
    compiled_translation,
    expect,
    html_lang,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
    status,
    submit_proposal,
)
from tests.conftest import World, events, reload

NEW_WORDING = "Субъекты обязаны обеспечить наличие огнетушителей и планов эвакуации на объекте."


# Stories --------------------------------------------------------------------------------------

@pytest.mark.browser
def test_reviewer_proposes_a_revision_and_the_lead_approves_it(page: Page, world: World,
                                                                screenshot):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    leo = world.user("leo", lead_in=(area,))
    req = world.requirement(area)
    world.requirement(area, title="Требование о санитарных нормах")
    # Matches the search too, but in an area Rita does not work in.
    world.requirement(world.area("11", "Лицензирование"), title="Лицензия пожарного аудитора")

    page.goto("/login")
    screenshot(page, "01-login")
    sign_in(page, rita)

    # The list, searched.
    page.get_by_role("link", name="Requirements", exact=True).click()
    page.get_by_label("Search in code, title and text").fill("пожар")
    page.get_by_role("button", name="Apply").click()
    rows = page.get_by_test_id("requirements").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(page.get_by_test_id("total")).to_contain_text("1 requirement")
    screenshot(page, "02-requirements-list")
    rows.get_by_role("link", name=req.title).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(req.code)
    expect(status(page)).to_contain_text("unreviewed")

    # The proposal form: the tests, the decision, the reasons, the new wording.
    answer(page, "legal", "Yes")
    answer(page, "necessary", "Yes")
    answer(page, "business_friendly", "No")
    expect(page.locator("#suggestion")).to_contain_text("The tests suggest")
    expect(page.locator("#suggestion")).to_contain_text("revise")
    choose(page, "Revise")
    expect(page.locator("#deviation-note")).to_be_hidden()
    page.get_by_label("Justification").fill("Достаточно одного огнетушителя на объект.")
    page.get_by_label("Proposed new wording").fill(NEW_WORDING)
    preview = page.locator("#wording-preview")
    expect(preview.locator("ins", has_text="эвакуации")).to_be_visible()
    expect(preview.locator("del", has_text="предпринимательства")).to_be_visible()
    screenshot(page, "03-requirement-proposal-form")
    submit_proposal(page)

    expect(page.get_by_role("status")).to_contain_text("Your proposal was recorded")
    # Opened from the searched list, whose only item this was: back to that list.
    expect(page.get_by_role("status")).to_contain_text("Nothing more in this list")
    expect(page).to_have_url(re.compile(r"/requirements/\?q="))
    page.goto(f"/requirements/{req.id}")
    expect(status(page)).to_contain_text("proposed")
    history = page.get_by_test_id("history")
    expect(history.locator("li")).to_have_count(1)
    expect(history).to_contain_text("Rita proposed")
    expect(page.get_by_test_id("wording-diff").locator("ins").first).to_be_visible()
    expect(page.get_by_test_id("proposal-form")).to_have_count(0)

    # The lead approves.
    sign_out(page)
    sign_in(page, leo)
    page.goto(f"/requirements/{req.id}")
    expect(status(page)).to_contain_text("proposed")
    page.get_by_label("Comment for the reviewers").fill("Согласен.")
    page.get_by_role("button", name="Approve").click()

    expect(page.get_by_role("status")).to_contain_text("Approved")
    expect(status(page)).to_contain_text("approved")
    expect(history.locator("li")).to_have_count(2)
    expect(history.locator("li").nth(0)).to_contain_text("Leo approved")
    expect(history.locator("li").nth(0)).to_contain_text("Согласен.")
    expect(history.locator("li").nth(1)).to_contain_text("Rita proposed")
    expect(page.get_by_test_id("current-proposal")).to_contain_text("Approved by")
    screenshot(page, "04-requirement-approved")

    saved = reload(req)
    assert saved.state == State.APPROVED
    assert saved.decision == Decision.REVISE
    assert (saved.test_legal, saved.test_necessary, saved.test_business_friendly) == (
        True, True, False)
    assert saved.new_wording == NEW_WORDING
    assert saved.justification == "Достаточно одного огнетушителя на объект."
    assert saved.deviation_reason is None
    assert (saved.proposed_by_id, saved.decided_by_id) == (rita.id, leo.id)
    assert saved.version == 3
    assert [(e.action.value, e.actor_id) for e in events(req)] == [
        ("propose", rita.id), ("approve", leo.id)]


@pytest.mark.browser
def test_a_decision_against_the_tests_needs_a_reason(page: Page, world: World):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    req = world.requirement(area)
    sign_in(page, rita)
    page.goto(f"/requirements/{req.id}")

    note = page.locator("#deviation-note")
    answer(page, "legal", "Yes")
    answer(page, "necessary", "No")
    answer(page, "business_friendly", "Yes")
    expect(page.locator("#suggestion")).to_contain_text("cancel")
    expect(note).to_be_hidden()
    choose(page, "Keep")
    expect(note).to_be_visible()
    expect(page.locator("#deviation")).to_have_class(re.compile(r"\battention\b"))
    expect(page.locator("#wording")).to_be_hidden()  # only a revision has new wording
    page.get_by_label("Justification").fill("Огнетушители спасают жизни.")
    submit_proposal(page)

    error = page.get_by_test_id("error")
    expect(error).to_contain_text("The tests suggest")
    expect(error).to_contain_text("Explain why")
    saved = reload(req)
    assert saved.state == State.UNREVIEWED
    assert saved.decision is None
    assert events(req) == []

    # What was entered is still there; add the reason and send it again.
    expect(page.get_by_label("Justification")).to_have_value("Огнетушители спасают жизни.")
    expect(page.get_by_role("group", name="Decision").get_by_label("Keep")).to_be_checked()
    expect(note).to_be_visible()
    page.get_by_label("Why the decision differs").fill("Необходимость подтверждена МЧС.")
    submit_proposal(page)

    expect(status(page)).to_contain_text("proposed")
    expect(page.get_by_test_id("error")).to_have_count(0)
    expect(page.get_by_test_id("current-proposal")).to_contain_text(
        "Необходимость подтверждена МЧС.")
    saved = reload(req)
    assert saved.state == State.PROPOSED
    assert saved.decision == Decision.KEEP
    assert saved.test_necessary is False
    assert saved.deviation_reason == "Необходимость подтверждена МЧС."
    assert len(events(req)) == 1


@pytest.mark.browser
def test_the_chosen_language_sticks(page: Page, world: World):
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    req = world.requirement(area)
    sign_in(page, rita)
    expect(html_lang(page)).to_have_attribute("lang", "en")

    for language, button in (("ru", "Русский"), ("kk", "Қазақша")):
        page.goto("/requirements/")
        page.get_by_role("button", name=button).click()
        expect(html_lang(page)).to_have_attribute("lang", language)
        expect(page.get_by_role("button", name=button)).to_have_attribute("aria-pressed", "true")
        expect(page).to_have_url(re.compile(r"/requirements/"))  # back where they were

        # Another page, reached by a link: still the chosen language.
        page.locator(f'a[href="/requirements/{req.id}?from=list"]').first.click()
        expect(page.get_by_test_id("status")).to_be_visible()
        expect(html_lang(page)).to_have_attribute("lang", language)

        translated = compiled_translation(language, "Requirements")
        if translated is not None:  # only once the catalog is compiled and has the word
            expect(page.locator(".mainnav a").first).not_to_have_text("Requirements")

        db.session.expire_all()
        assert db.session.get(User, rita.id).language == language  # on the account, too


@pytest.mark.browser
def test_a_stale_proposal_is_refused_and_shows_what_changed(new_context, world: World):
    area = world.area()
    anna = world.user("anna", reviewer_in=(area,))
    boris = world.user("boris", reviewer_in=(area,))
    req = world.requirement(area)
    a, b = new_context().new_page(), new_context().new_page()
    for page, person in ((a, anna), (b, boris)):
        sign_in(page, person)
        page.goto(f"/requirements/{req.id}")
        expect(status(page)).to_contain_text("unreviewed")

    # Anna proposes to cancel.
    answer(a, "legal", "No")
    answer(a, "necessary", "Yes")
    answer(a, "business_friendly", "Yes")
    choose(a, "Cancel")
    a.get_by_label("Justification").fill("Нет правового основания.")
    submit_proposal(a)
    expect(status(a)).to_contain_text("proposed")

    # Boris, still looking at the old page, proposes to keep.
    answer(b, "legal", "Yes")
    answer(b, "necessary", "Yes")
    answer(b, "business_friendly", "Yes")
    choose(b, "Keep")
    b.get_by_label("Justification").fill("Требование обосновано.")
    submit_proposal(b)

    expect(b.get_by_test_id("error")).to_contain_text(
        "Someone else changed this requirement")
    expect(status(b)).to_contain_text("proposed")
    current = b.get_by_test_id("current-proposal")
    expect(current).to_contain_text("cancel")
    expect(current).to_contain_text("Нет правового основания.")
    expect(current).to_contain_text("Anna")
    expect(b.get_by_test_id("proposal-form")).to_have_count(0)

    saved = reload(req)
    assert (saved.decision, saved.proposed_by_id) == (Decision.CANCEL, anna.id)
    assert [e.actor_id for e in events(req)] == [anna.id]
