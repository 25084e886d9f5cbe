"""The strict Content-Security-Policy breaks no page: a real Chromium visits the main pages and
any "Content Security Policy" console error fails the test. Same set-up and skip/fail rules as
tests/browser_support.py (whose ``new_context`` also fails every browser story on such an error).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage

from review_app.auth.models import GlobalRole
from review_app.requirements.models import Decision, State
from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def collect_csp_errors(page) -> list[str]:
    """Console messages in which Chromium reports something the policy blocked."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            found.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return found


def test_the_main_pages_work_under_the_content_security_policy(
        new_context, world: World, screenshot):  # noqa: F811 - pytest fixtures
    area = world.area("07")
    reviewer = world.user("aigerim", reviewer_in=(area,))
    admin = world.user("admin", role=GlobalRole.ADMIN, lead_in=(area,))
    req = world.requirement(area)
    # One decided requirement, so the progress bars have something to draw.
    world.requirement(area, state=State.APPROVED, decision=Decision.CANCEL)

    page = new_context().new_page()
    blocked = collect_csp_errors(page)
    page.goto("/login")
    sign_in(page, reviewer)
    for url in ("/requirements/", f"/requirements/{req.id}", "/my-work", "/account/password",
                "/no/such/page"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    # The proposal form's script (app.js) runs: the suggestion appears as the tests are ticked.
    page.goto(f"/requirements/{req.id}")
    for question, value in (("legal", "No"), ("necessary", "Yes"), ("business_friendly", "Yes")):
        page.locator(f'fieldset[data-question="{question}"]').get_by_label(
            value, exact=True).check()
    expect(page.locator("#suggestion")).to_be_visible()
    sign_out(page)

    sign_in(page, admin)
    for url in ("/areas/", "/areas/07", "/queue", "/summaries/", "/admin/users/",
                "/admin/areas/", "/admin/areas/07", "/admin/imports/", "/admin/audit/"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
    page.goto("/areas/")
    # The progress bars are <meter> elements now, drawn without inline styles.
    expect(page.locator("meter.bar").first).to_be_visible()
    screenshot(page, "csp-areas")
    page.goto("/areas/07")
    screenshot(page, "csp-area-progress")
    assert blocked == [], "the Content-Security-Policy blocked something:\n" + "\n".join(blocked)


def test_the_check_above_would_see_a_blocked_inline_style(browser, live_server):  # noqa: F811
    """Guard against the test above passing vacuously: an inline style is reported.

    (A context of its own: the ``new_context`` fixture would rightly fail on this error.)
    """
    context = browser.new_context(base_url=live_server)
    try:
        page = context.new_page()
        blocked = collect_csp_errors(page)
        page.goto("/login")
        page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                      "'<div style=\"color: red\">x</div>')")
        page.wait_for_timeout(300)
    finally:
        context.close()
    assert any("style" in message for message in blocked), blocked
