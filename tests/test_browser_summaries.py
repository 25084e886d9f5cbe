"""A manager, in a real Chromium, asks for the all-areas summary, watches it being built by a
real worker process, downloads it and opens it; a lead sees only their own area."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from review_app.auth.models import GlobalRole
from tests.browser_support import (
    MISSING,
    TIMEOUT_MS,
    sign_in,
)
from tests.summaries_support import (
    kill_group,
    sheet_rows,
    start_worker,
    wait_until_serving,
    workbook,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]


@pytest.fixture
def country(world):
    """For tests marked ``@pytest.mark.demo_data(6000)``: the demo data, seeded once per session."""
    return world


@pytest.mark.demo_data(6000)
def test_a_manager_asks_for_the_all_areas_summary_watches_it_and_opens_it(
        app, page, country, screenshot, tmp_path):  # noqa: F811 - the fixtures
    manager = country.user("maria", role=GlobalRole.MANAGER)
    worker = start_worker(app, "summaries")
    try:
        wait_until_serving(app, worker)
        sign_in(page, manager)
        page.get_by_role("link", name="Summaries").click()
        expect(page.get_by_role("heading", name="Summaries", level=1)).to_be_visible()
        page.get_by_label("Which area").select_option(label="All areas")
        page.get_by_role("radio", name=re.compile("^Excel workbook")).check()
        page.evaluate("window.notReloaded = true")
        page.get_by_role("button", name="Request summary").click()
        expect(page.get_by_role("status").first).to_contain_text("being prepared")

        row = page.get_by_test_id("summaries").locator("tbody tr").first
        expect(row).to_contain_text("All areas")
        expect(row.get_by_test_id("summary-status")).to_have_text(re.compile("queued|running"))
        page.evaluate("window.notReloaded = true")
        expect(row.locator("progress")).to_be_visible()
        screenshot(page, "summaries-01-building")
        # The row follows the build by itself: no reload.
        expect(row.get_by_test_id("summary-status")).to_have_text("done", timeout=120_000)
        assert page.evaluate("window.notReloaded") is True
        expect(row).to_contain_text("KB")
        screenshot(page, "summaries-02-done")

        with page.expect_download(timeout=TIMEOUT_MS * 4) as event:
            row.get_by_role("link", name="Download").click()
        download = event.value
        assert re.fullmatch(r"summary-all-areas-\d{8}-\d{4}\.xlsx", download.suggested_filename)
        path = tmp_path / download.suggested_filename
        download.save_as(path)
    finally:
        kill_group(worker)

    wb = workbook(path.read_bytes())
    assert wb.sheetnames == ["Summary", "Areas", "Cancelled", "Revised", "Kept", "Pending",
                             "Reviewers"]
    areas = sheet_rows(wb["Areas"])
    assert len(areas) == 45 and areas[-1][0] == "Total" and areas[-1][2] == 6000


def test_a_lead_sees_only_their_own_area(page, world):  # noqa: F811 - the fixture
    fire = world.area("07", "Пожарная безопасность")
    world.area("12", "Транспорт")
    lead = world.user("leila", lead_in=(fire,))
    sign_in(page, lead)
    page.get_by_role("link", name="Summaries").click()
    options = page.get_by_label("Which area").locator("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("07 · Area 07")
