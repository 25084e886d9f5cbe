"""In a real Chromium: a refused proposal leaves the page's own address in the address bar, so
reloading shows the refusal and what was typed again, and sends nothing. Same set-up and
skip/fail rules as tests/browser_support.py."""

from __future__ import annotations

import re

import pytest

from review_app.requirements.models import State
from tests.browser_support import (
    answer,
    choose,
    expect,
    pytestmark,  # noqa: F401 - skips the module without a browser (fails in CI)
    sign_in,
    submit_proposal,
)
from tests.conftest import World, events, reload

pytestmark = [pytestmark, pytest.mark.browser]  # noqa: F811


def test_reloading_a_refused_proposal_sends_nothing_and_keeps_the_text(
        page, world: World):  # noqa: F811 - pytest fixture
    area = world.area()
    rita = world.user("rita", reviewer_in=(area,))
    req = world.requirement(area)
    sign_in(page, rita)
    page.goto(f"/requirements/{req.id}")
    answer(page, "legal", "Yes")
    answer(page, "necessary", "No")
    answer(page, "business_friendly", "Yes")
    choose(page, "Keep")  # against the tests, and no reason given: refused by the server
    page.get_by_label("Justification").fill("Огнетушители спасают жизни.")
    submit_proposal(page)
    expect(page.get_by_test_id("error")).to_contain_text("The tests suggest")
    expect(page).to_have_url(re.compile(rf"/requirements/{req.id}\?draft=[\w-]+$"))

    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.reload()
    expect(page.get_by_test_id("error")).to_contain_text("The tests suggest")
    expect(page.get_by_label("Justification")).to_have_value("Огнетушители спасают жизни.")
    expect(page.get_by_role("group", name="Decision").get_by_label("Keep")).to_be_checked()
    assert posts == []
    assert reload(req).state == State.UNREVIEWED and events(req) == []
