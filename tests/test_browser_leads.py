"""A lead and reviewers run an area in a real Chromium: share out the work, claim, propose,
decide in bulk, reopen. Same set-up and skip/fail rules as tests/browser_support.py."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from review_app.extensions import db
from review_app.requirements.models import Requirement, State
from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World, reload

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def test_lead_shares_work_reviewers_propose_and_the_lead_approves_in_bulk(
        new_context, world: World, screenshot):  # noqa: F811 - pytest fixtures
    area = world.area("07")
    lead = world.user("erlan", lead_in=(area,))
    reviewers = [world.user(name, reviewer_in=(area,)) for name in ("aigerim", "bolat")]
    reqs = [world.requirement(area) for _ in range(4)]

    page = new_context().new_page()  # noqa: F811 - a local page, not the fixture
    sign_in(page, lead)
    page.get_by_role("link", name="Areas").click()
    page.get_by_role("link", name="07 · Area 07").click()
    page.get_by_role("button", name="Balance assignments").click()
    expect(page.get_by_role("status")).to_contain_text("4 unassigned requirements were shared out.")
    screenshot(page, "10-area-progress")
    sign_out(page)

    for reviewer in reviewers:
        sign_in(page, reviewer)
        page.get_by_role("link", name="My work").click()
        rows = page.locator('[data-testid="my-work"] tbody tr')
        expect(rows).to_have_count(2)
        for i in range(2):
            page.get_by_role("link", name="My work").click()
            page.locator('[data-testid="my-work"] tbody tr').nth(0).locator("td.code a").click()
            page.locator('fieldset[data-question="legal"]').get_by_label("No", exact=True).check()
            page.locator('fieldset[data-question="necessary"]').get_by_label(
                "Yes", exact=True).check()
            page.locator('fieldset[data-question="business_friendly"]').get_by_label(
                "Yes", exact=True).check()
            page.get_by_label("Cancel").check()
            page.get_by_label("Justification").fill(f"Нет правового основания ({i}).")
            page.get_by_role("button", name="Submit proposal").click()
            # On to the next item of My work (the first time), then back to My work.
            expect(page.get_by_role("status")).to_contain_text("Your proposal was recorded")
            expect(page).to_have_url(re.compile(r"/requirements/\d+\?from=my-work$" if i == 0
                                                else r"/my-work$"))
        sign_out(page)

    sign_in(page, lead)
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_test_id("queue-item")).to_have_count(4)
    page.get_by_label("Tick every row on this page").check()
    page.get_by_label("Comment for the reviewers").fill("Согласовано.")
    screenshot(page, "11-queue")
    page.get_by_role("button", name="Approve selected").click()
    expect(page.get_by_role("status")).to_contain_text("Approved 4 requirements.")
    assert all(reload(r).state == State.APPROVED for r in reqs)

    # An approval is reopened with a reason, and goes back to the reviewers.
    page.goto(f"/requirements/{reqs[0].id}")
    page.get_by_label("Why reopen this decision").fill("Закон изменён в ноябре.")
    page.get_by_role("button", name="Reopen").click()
    expect(page.get_by_test_id("status")).to_contain_text("returned")
    expect(page.get_by_test_id("history")).to_contain_text("Закон изменён в ноябре.")
    screenshot(page, "12-reopened")
    assert reload(reqs[0]).state == State.RETURNED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Requirement).where(
        Requirement.state == State.APPROVED)) == 3
