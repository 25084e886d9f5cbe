"""In a real Chromium, under the app's strict CSP: the API reference page renders the document
with our own script, a person creates a token on their page, and the open data shows only
what an admin published."""

from __future__ import annotations

import pytest

from review_app.auth.models import GlobalRole
from review_app.requirements.models import Decision, State
from tests.browser_support import (
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    sign_out,
)
from tests.conftest import World
from tests.test_browser_csp import collect_csp_errors

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def test_reference_tokens_and_open_data_in_the_browser(
        new_context, world: World, screenshot):  # noqa: F811 - pytest fixtures
    area = world.area("07")
    world.area("12", "Транспорт")
    admin = world.user("admin", role=GlobalRole.ADMIN)
    decided = world.requirement(area, state=State.APPROVED, decision=Decision.CANCEL,
                                justification="Дублирует общие правила.")
    page = new_context().new_page()
    blocked = collect_csp_errors(page)
    page.goto("/login")
    sign_in(page, admin)

    page.goto("/api/docs")
    expect(page.locator("#api_propose")).to_contain_text("POST /api/v1/requirements/")
    expect(page.locator("#api_propose")).to_contain_text('"decision": "cancel"')
    expect(page.locator("#api_upload_import")).to_contain_text("multipart/form-data")
    expect(page.locator("#api_revoke_token")).to_contain_text("DELETE /api/v1/tokens/")
    screenshot(page, "api-reference")

    page.goto("/account/tokens")
    page.get_by_label("Token name").fill("register sync")
    page.get_by_label("read and write").check()
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_test_id("new-token")).to_contain_text("rra_")
    screenshot(page, "api-tokens")

    page.goto("/open/")
    expect(page.get_by_test_id("nothing-published")).to_be_visible()
    page.goto("/open/manage")
    page.get_by_test_id("publish-07").click()
    sign_out(page)
    page.goto("/open/")
    expect(page.get_by_test_id("open-decisions")).to_contain_text(decided.code)
    screenshot(page, "open-data")
    assert blocked == []
