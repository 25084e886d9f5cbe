"""In a real Chromium: a manager working in Kazakh asks for one ministry's amendment package,
watches a real worker process build it and downloads the DOCX; a lead is told by the bell
that a proposal waits for them, and reads it (Russian)."""

from __future__ import annotations

import io
import re

import docx
import pytest
from playwright.sync_api import expect

from review_app.auth.models import GlobalRole
from tests.browser_support import (
    MISSING,
    TIMEOUT_MS,
    sign_in,
)
from tests.conftest import login_as, propose
from tests.summaries_support import kill_group, start_worker, wait_until_serving

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]


@pytest.fixture
def country(world):
    """For tests marked ``@pytest.mark.demo_data(3000)``: the demo data, seeded once per session."""
    return world


@pytest.mark.demo_data(3000)
def test_a_manager_in_kazakh_downloads_one_ministrys_package_as_docx(
        app, page, country, screenshot, tmp_path):  # noqa: F811 - the fixtures
    manager = country.user("maria", role=GlobalRole.MANAGER)
    worker = start_worker(app, "summaries")
    try:
        wait_until_serving(app, worker)
        sign_in(page, manager)
        page.get_by_role("button", name="Қазақша").click()
        page.goto("/summaries/")
        page.get_by_test_id("package-link").click()
        expect(page.get_by_role("heading", name="Түзетулер пакеті", level=1)).to_be_visible()
        body_link = page.get_by_test_id("package-acts").locator("tbody tr td a").first
        body = body_link.inner_text()
        body_link.click()
        expect(page.get_by_label("Реттеуші орган")).to_have_value(body)
        screenshot(page, "package-01-kk-one-body")
        page.get_by_role("radio", name=re.compile("^Word")).check()
        page.get_by_role("button", name="Пакетті сұрату").click()
        expect(page.get_by_role("status").first).to_contain_text("Түзетулер пакеті дайындалуда")
        row = page.get_by_test_id("packages").locator("tbody tr").first
        expect(row).to_contain_text(body)
        expect(row.get_by_test_id("summary-status")).to_have_text("дайын", timeout=120_000)
        screenshot(page, "package-02-kk-done")
        with page.expect_download(timeout=TIMEOUT_MS * 4) as event:
            row.get_by_role("link", name="Жүктеп алу").click()
        download = event.value
        assert re.fullmatch(r"amendment-package-all-areas-\d{8}-\d{4}\.docx",
                            download.suggested_filename)
        data = download.path().read_bytes()
    finally:
        kill_group(worker)

    document = docx.Document(io.BytesIO(data))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [body]  # one ministry
    assert document.tables and document.paragraphs[0].text == "Түзетулер пакеті"
    assert document.tables[0].rows[0].cells[1].text == "Бап, тармақ"


def test_the_bell_tells_a_lead_of_a_proposal_and_the_list_marks_it_read(
        client, page, world, team, screenshot):  # noqa: F811 - the fixtures
    req = world.requirement(team["fire"], title="Огнетушители на каждом этаже")
    login_as(client, team["aigerim"])
    propose(client, req, "cancel")

    sign_in(page, team["lead"])
    page.get_by_role("button", name="Русский").click()
    bell = page.get_by_test_id("bell")
    expect(bell.get_by_test_id("bell-count")).to_have_text("1")
    expect(bell).to_have_attribute("aria-label", "Уведомления: новых: 1")
    screenshot(page, "bell-01-ru-one-new")
    bell.click()
    expect(page.get_by_role("heading", name="Уведомления", level=1)).to_be_visible()
    item = page.get_by_test_id("notifications").locator("li").first
    expect(item).to_contain_text("Aigerim внес(ла) предложение, которое ждёт вашего утверждения")
    expect(item).to_contain_text(req.code)
    expect(item).to_contain_text("не прочитано")
    expect(page.get_by_test_id("bell-count")).to_have_count(0)  # read once shown
    screenshot(page, "bell-02-ru-list")
    page.reload()
    expect(item).not_to_contain_text("не прочитано")
    item.get_by_role("link", name=req.code).click()
    expect(page).to_have_url(re.compile(rf"/requirements/{req.id}$"))
