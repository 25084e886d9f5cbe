"""In a real Chromium: a reviewer sees the copies of a requirement beside it, opens their
duplicate group, and decides the whole group at once; the pages read in Kazakh and Russian."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from review_app.duplicates import service
from review_app.requirements.models import Decision, State
from review_app.reviews.models import Action
from tests.browser_support import (
    IN_CI,
    MISSING,
    sign_in,
)
from tests.conftest import World, events, reload
from tests.duplicates_support import (
    EXTINGUISHERS,
    EXTINGUISHERS_NEAR,
    EXTINGUISHERS_RENUMBERED,
    run_worker,
)

pytestmark = pytest.mark.skipif(MISSING is not None and not IN_CI, reason=MISSING or "")


@pytest.mark.browser
def test_a_reviewer_decides_a_duplicate_group_once(app, page: Page, world: World,  # noqa: F811
                                                   screenshot):  # noqa: F811
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    aigerim = world.user("aigerim", reviewer_in=(fire,))
    world.user("lead", lead_in=(fire,))
    first = world.requirement(fire, text=EXTINGUISHERS)
    copies = [world.requirement(fire, text=EXTINGUISHERS_RENUMBERED),
              world.requirement(fire, text=EXTINGUISHERS_NEAR)]
    elsewhere = world.requirement(transport, text=EXTINGUISHERS)
    service.request_grouping("seed")
    run_worker(app)

    sign_in(page, aigerim)
    page.goto(f"/requirements/{first.id}")
    panel = page.get_by_test_id("similar")
    expect(panel.get_by_test_id("similar-item")).to_have_count(2)  # transport's is not hers
    expect(panel).to_contain_text(copies[0].code)
    expect(panel).to_contain_text("same text")
    panel.get_by_test_id("duplicate-group-link").get_by_role("link").click()

    expect(page.get_by_test_id("member")).to_have_count(3)
    expect(page.get_by_test_id("group-summary")).to_contain_text(
        "1 of them is in an area you do not see")
    for code in (first.code, copies[0].code, copies[1].code):
        expect(page.get_by_label(f"Select {code}")).to_be_checked()
    page.get_by_role("group", name="Is it legal?").get_by_label("No", exact=True).check()
    page.get_by_role("group", name="Is it necessary?").get_by_label("Yes", exact=True).check()
    page.get_by_role("group", name="Is it business-friendly?").get_by_label(
        "Yes", exact=True).check()
    page.get_by_role("group", name="Decision").get_by_label("Cancel", exact=True).check()
    page.get_by_label("Justification", exact=True).fill(
        "Норма дублирует технический регламент о пожарной безопасности.")
    screenshot(page, "duplicate-group-en")
    page.get_by_test_id("propose-group").click()

    expect(page.get_by_test_id("done")).to_contain_text("Proposed for 3 requirements.")
    for req in (first, *copies):
        req = reload(req)
        assert req.state == State.PROPOSED and req.decision == Decision.CANCEL
        assert len(events(req, Action.PROPOSE)) == 1
    assert reload(elsewhere).state == State.UNREVIEWED

    # The same group page in the two working languages.
    group = service.group_of(first.id)
    for language, button in (("kk", "Қазақша"), ("ru", "Русский")):
        page.get_by_role("button", name=button).click()
        page.goto(f"/duplicates/{group.id}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        screenshot(page, f"duplicate-group-{language}")
        page.goto(f"/requirements/{first.id}")
        screenshot(page, f"similar-panel-{language}")
