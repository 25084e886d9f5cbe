"""The cost of compliance in a real Chromium: a reviewer enters SCM inputs with ranges, the
lead approves them, and the page shows the formula and the range in Russian and Kazakh."""

from __future__ import annotations

import pytest

from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World, reload
from tests.scm_support import tariff

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def test_a_reviewer_enters_cost_inputs_and_the_lead_approves_them(
        page, world: World, screenshot):  # noqa: F811 - pytest fixtures
    area = world.area("07", "Пожарная безопасность")
    reviewer = world.user("aigerim", reviewer_in=(area,))
    lead = world.user("erlan", lead_in=(area,))
    req = world.requirement(area, businesses_affected=12_000)
    tariff()

    sign_in(page, reviewer)
    page.goto(f"/requirements/{req.id}")
    page.get_by_text("Enter the cost inputs").click()
    form = page.get_by_test_id("scm-form")
    first = page.get_by_test_id("scm-action-0")
    first.get_by_label("What businesses must do").fill("Ежеквартальный отчёт")
    first.get_by_label("Hours per occurrence").fill("3 (2–5)")
    first.get_by_label("Named tariff").select_option("ACCOUNTANT")
    first.get_by_label("Times a year").fill("4")
    first.get_by_label("Share of the businesses that must do it, %").fill("100 (80–100)")
    form.get_by_role("button", name="Propose these cost inputs").click()
    expect(page.get_by_test_id("cost-proposal")).to_be_visible()
    expect(page.get_by_test_id("cost")).to_contain_text("360,000,000 ₸ (192,000,000–600,000,000 ₸)")

    # A second action with a typo: refused in place, naming the action and the field.
    page.get_by_text("Change the cost inputs").click()
    second = page.get_by_test_id("scm-action-1")
    second.get_by_label("Hours per occurrence").fill("два")
    second.get_by_label("Own hourly tariff, ₸").fill("3000")
    page.get_by_role("button", name="Propose these cost inputs").click()
    expect(page.get_by_role("alert")).to_contain_text("Action 2, “Hours per occurrence”")
    sign_out(page)

    sign_in(page, lead)
    page.goto(f"/requirements/{req.id}")
    page.get_by_role("button", name="Approve the cost inputs").click()
    expect(page.get_by_test_id("cost-reported")).to_contain_text("the computed cost")
    assert reload(req).scm_cost_kzt == 360_000_000

    for language, button in (("ru", "Русский"), ("kk", "Қазақша")):
        page.goto("/requirements/")
        page.get_by_role("button", name=button).click()
        page.goto(f"/requirements/{req.id}#cost")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_test_id("cost-total")).to_contain_text("360 000 000")
        screenshot(page, f"scm-requirement-{language}")

