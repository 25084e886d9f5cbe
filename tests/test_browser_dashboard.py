"""A manager opens the dashboard in a real Chromium, in Russian and Kazakh: the charts draw
with the strict CSP, sorting works, the trend of one area opens, and it prints to PDF.
An admin sets a deadline and the area's outlook follows. Same set-up as tests/browser_support.py."""

from __future__ import annotations

import pytest

from review_app.auth.models import GlobalRole
from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World
from tests.dashboard_support import decided_by, proposed_by

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def test_a_manager_reads_the_dashboard_in_russian_and_kazakh_and_prints_it(
        new_context, world: World, client, screenshot, tmp_path):  # noqa: F811
    fire, transport = world.area("07", "Пожарная безопасность"), world.area("12", "Транспорт")
    reviewer = world.user("aigerim", reviewer_in=(fire,))
    lead = world.user("erlan", lead_in=(fire,))
    admin = world.user("admin", role=GlobalRole.ADMIN)
    manager = world.user("manager", role=GlobalRole.MANAGER)
    reqs = [world.requirement(fire) for _ in range(4)] + [world.requirement(transport)]
    proposed_by(client, reviewer, reqs[:3])
    decided_by(client, lead, reqs[:2])

    page = new_context().new_page()  # noqa: F811 - a local page, not the fixture
    sign_in(page, admin)
    page.goto("/dashboard")
    page.get_by_role("link", name="Set deadlines").click()
    page.get_by_label("Programme deadline").fill("2020-01-31")
    page.get_by_role("button", name="Save deadlines").click()
    expect(page.get_by_role("status")).to_contain_text("Deadlines saved.")
    sign_out(page)

    sign_in(page, manager)
    page.get_by_role("button", name="Русский").click()
    page.get_by_role("link", name="Сводная панель").click()
    expect(page.get_by_role("heading", name="Реформа с первого взгляда")).to_be_visible()
    expect(page.get_by_test_id("totals")).to_contain_text("2 из 5")
    # The money says which figure it is and what lacks cost inputs, inside its tile.
    expect(page.get_by_test_id("money-removed")).to_contain_text(
        "2 требования без данных для расчёта")
    expect(page.get_by_test_id("money-source")).to_contain_text("импортированная оценка")
    assert page.evaluate("() => [...document.querySelectorAll('.kpi')].every("
                         "e => e.scrollWidth <= e.clientWidth + 1)")
    # The deadline has passed with work left: both areas are overdue.
    expect(page.locator('tr[data-area="07"]')).to_contain_text("просрочено")
    expect(page.get_by_test_id("national-outlook")).to_contain_text("просрочено")
    for chart in ("split", "burnup", "weekly"):
        box = page.get_by_test_id(chart).locator("svg").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 60, chart
    expect(page.get_by_test_id("trend-table")).to_contain_text("2 / 5")
    screenshot(page, "dashboard-ru")

    page.locator('a[data-sort="remaining"]').click()
    rows = page.locator('[data-testid="area-rows"] tbody tr')
    expect(rows.first).to_have_attribute("data-area", "07")
    page.locator('tr[data-area="12"]').get_by_role("link", name="динамика").click()
    expect(page.locator("#trend h2")).to_contain_text("12")

    page.get_by_role("button", name="Қазақша").click()
    expect(page.get_by_role("heading", name="Реформа бір қарағанда")).to_be_visible()
    expect(page.get_by_test_id("money-removed")).to_contain_text("есеп деректері жоқ 2 талап")
    screenshot(page, "dashboard-kk")
    pdf = tmp_path / "dashboard-kk.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000
