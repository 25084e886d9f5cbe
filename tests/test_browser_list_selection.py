"""In a real Chromium: a reviewer filters the requirements list, ticks three rows, proposes one
"cancel" for them with a standard justification, sees the result and goes back to the same
filtered list; the lead approves the three with the queue's bulk approval. The list and the
new page are looked at in Kazakh and Russian."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from review_app.extensions import db
from review_app.justifications.models import JustificationTemplate
from review_app.requirements.models import Decision, State
from review_app.reviews.models import Action
from tests.browser_support import (
    IN_CI,
    MISSING,
    sign_in,
    sign_out,
)
from tests.conftest import World, events, reload

pytestmark = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")


@pytest.mark.browser
def test_a_reviewer_proposes_one_decision_for_three_ticked_rows_and_the_lead_approves_them(
        page: Page, world: World, screenshot):  # noqa: F811
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    aigerim = world.user("aigerim", reviewer_in=(fire,))
    lead = world.user("erlan", lead_in=(fire,))
    reqs = [world.requirement(fire) for _ in range(4)]
    elsewhere = world.requirement(transport)
    db.session.add(JustificationTemplate(
        area_id=fire.id, text_kk="Талаптың заңды негізі жоқ.",
        text_ru="У требования нет законного основания.",
        text_en="The requirement has no basis in law."))
    db.session.commit()

    sign_in(page, aigerim)
    page.goto("/requirements/")
    page.get_by_label("Area", exact=True).select_option("07")
    page.get_by_label("State", exact=True).select_option("unreviewed")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"area=07.*state=unreviewed"))
    filtered = page.url
    for req in reqs[:3]:
        page.get_by_label(f"Select {req.code}").check()
    expect(page.locator("[data-selected-count]")).to_have_text("Ticked: 3")
    button = page.get_by_role("button", name="Propose one decision for the ticked (3)")
    screenshot(page, "list-ticked-en")
    button.click()

    expect(page.get_by_role("heading", name="One decision for the ticked requirements")
           ).to_be_visible()
    expect(page.get_by_test_id("ticked")).to_have_count(3)
    expect(page.get_by_test_id("selection")).not_to_contain_text(reqs[3].code)
    page.wait_for_selector("html[data-keys='ready']", state="attached")
    page.get_by_role("group", name="Is it legal?").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Is it necessary?").get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name="Is it business-friendly?").get_by_label(
        "Yes", exact=True).check()
    # The tests suggest cancel, and the decision follows them.
    expect(page.get_by_role("group", name="Decision").get_by_label("Cancel", exact=True)
           ).to_be_checked()
    page.get_by_role("button", name=re.compile("The requirement has no basis in law")).click()
    expect(page.get_by_label("Justification", exact=True)).to_have_value(
        "The requirement has no basis in law.")
    screenshot(page, "selection-en")
    page.get_by_test_id("propose-ticked-submit").click()

    expect(page.get_by_test_id("done")).to_contain_text("Proposed for 3 requirements.")
    for req in reqs[:3]:
        req = reload(req)
        assert req.state == State.PROPOSED and req.decision == Decision.CANCEL
        assert req.justification == "The requirement has no basis in law."
        assert len(events(req, Action.PROPOSE)) == 1
    assert reload(reqs[3]).state == State.UNREVIEWED
    assert reload(elsewhere).state == State.UNREVIEWED
    page.get_by_role("link", name="Back").click()
    expect(page).to_have_url(filtered)
    expect(page.locator('[data-testid="requirements"] tbody tr')).to_have_count(1)

    # The list and the new page in the two working languages.
    for language, switch in (("kk", "Қазақша"), ("ru", "Русский")):
        page.get_by_role("button", name=switch).click()
        page.goto("/requirements/?area=07")
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator(f"#tick-{reqs[3].id}").check()
        screenshot(page, f"list-ticked-{language}")
        page.get_by_test_id("propose-ticked").click()
        expect(page.get_by_test_id("ticked")).to_have_count(1)
        screenshot(page, f"selection-{language}")
    page.get_by_role("button", name="English").click()
    sign_out(page)

    # The lead approves the three with the queue's bulk approval.
    sign_in(page, lead)
    page.goto("/queue")
    expect(page.get_by_test_id("queue-item")).to_have_count(3)
    page.get_by_label("Tick every row on this page").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("status")).to_contain_text("Approved 3 requirements.")
    for req in reqs[:3]:
        req = reload(req)
        assert req.state == State.APPROVED and req.decided_by_id == lead.id
        assert len(events(req, Action.APPROVE)) == 1


@pytest.mark.browser
def test_the_ticks_and_the_action_work_from_the_keyboard(page: Page, world: World):  # noqa: F811
    fire = world.area("07", "Пожарная безопасность")
    aigerim = world.user("aigerim", reviewer_in=(fire,))
    reqs = [world.requirement(fire) for _ in range(2)]
    sign_in(page, aigerim)
    page.goto("/requirements/")
    page.get_by_label("Tick every row on this page").focus()
    page.keyboard.press("Space")
    for req in reqs:
        expect(page.get_by_label(f"Select {req.code}")).to_be_checked()
    page.get_by_label(f"Select {reqs[1].code}").focus()
    page.keyboard.press("Space")  # untick one
    button = page.get_by_role("button", name="Propose one decision for the ticked (1)")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("ticked")).to_have_count(1)
    expect(page.get_by_test_id("ticked")).to_contain_text(reqs[0].code)
